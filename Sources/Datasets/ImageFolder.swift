import Foundation
import Synchronization
import Tensors

/// A data set of your own: a directory with one subfolder per class, each holding that
/// class's images as JPEG, PNG, PGM or PPM files (`.jpg`, `.jpeg`, `.png`, `.pgm`, `.ppm`; other files and hidden
/// ones are skipped). Classes are the folder names in sorted order.
public enum ImageFolder {
  /// The image extensions read.
  public static let extensions: Set<String> = ["jpg", "jpeg", "png", "pgm", "ppm"]

  /// Loads every class folder's images, resized to `size` (height, width) by area averaging
  /// with `channels` (1 or 3); without `size` every image must have the first one's size.
  /// Errors name the folder or file: no class folders, an empty class, an unreadable or
  /// damaged image, a size that differs.
  public static func load(directory: String, size: (height: Int, width: Int)? = nil, channels: Int = 3) throws
    -> ImageDataset
  {
    guard channels == 1 || channels == 3 else { throw DatasetError("images have 1 or 3 channels, not \(channels)") }
    if let size, !(1...1024).contains(size.height) || !(1...1024).contains(size.width) {
      throw DatasetError("image size \(size.height)x\(size.width) is not 1x1 to 1024x1024")
    }
    let classes = try entries(directory, what: "image folder").filter { pathKind(join(directory, $0)) == .directory }
    guard !classes.isEmpty else {
      throw DatasetError("image folder \(quoted(directory)) has no class subfolders (one folder of images per class)")
    }
    guard classes.count <= 256 else {
      throw DatasetError("image folder \(quoted(directory)) has \(classes.count) classes; at most 256")
    }
    var files: [(path: String, label: UInt8)] = []
    for (label, name) in classes.enumerated() {
      let folder = join(directory, name)
      let names = try entries(folder, what: "class folder").filter {
        extensions.contains(($0 as NSString).pathExtension.lowercased())
      }
      guard !names.isEmpty else {
        throw DatasetError("class folder \(quoted(folder)) holds no .jpg, .jpeg, .png, .pgm or .ppm images")
      }
      files += names.map { (join(folder, $0), UInt8(label)) }
    }
    // Without a size, the first image sets it; then every file decodes on its own thread,
    // each read straight at that size, so a large photo never sits whole in memory.
    let shape = try size ?? firstShape(files[0].path)
    let images = try decodeAll(files.map(\.path), shape: shape, channels: channels, sameSize: size == nil)
    return try ImageDataset(
      images: images, labels: files.map(\.label), height: shape.height, width: shape.width, channels: channels,
      classNames: classes)
  }

  /// The size of the first image, which an image folder without a size takes for all.
  /// Only the header is read: the decoding stops there (the image is decoded with the rest).
  private static func firstShape(_ path: String) throws -> (height: Int, width: Int) {
    struct HeaderRead: Error { let height: Int, width: Int }
    do {
      _ = try decodeImageFile(path) { header in
        guard header.height <= 1024, header.width <= 1024 else {
          throw DatasetError("\(quoted(path)) is \(header.height)x\(header.width), larger than 1024x1024; give a size")
        }
        throw HeaderRead(height: header.height, width: header.width)
      }
    } catch let read as HeaderRead {
      return (read.height, read.width)
    } catch let error as ImageFileError {
      throw DatasetError(error.description)
    }
    throw DatasetError("\(quoted(path)) has no image header")
  }

  /// Every file decoded at `shape` on all cores, in file order; the first failure in that
  /// order is thrown, so the error does not depend on the threads.
  private static func decodeAll(_ paths: [String], shape: (height: Int, width: Int), channels: Int, sameSize: Bool)
    throws -> [UInt8]
  {
    let size = shape.height * shape.width * channels
    var images = [UInt8](repeating: 0, count: paths.count * size)
    var failures = [Error?](repeating: nil, count: paths.count)
    // The lowest index that failed: files after it are not decoded.
    let firstFailure = Atomic<Int>(Int.max)
    images.withUnsafeMutableBufferPointer { out in
      failures.withUnsafeMutableBufferPointer { failed in
        parallelFor(paths.count) { i in
          guard i < firstFailure.load(ordering: .relaxed) else { return }
          defer { if failed[i] != nil { firstFailure.min(i, ordering: .relaxed) } }
          do {
            let image = try decodeImageFile(paths[i]) { header in
              if sameSize, (header.height, header.width) != (shape.height, shape.width) {
                throw DatasetError(
                  "\(quoted(paths[i])) is \(header.height)x\(header.width), the first image \(shape.height)x\(shape.width); give a size to resize them all"
                )
              }
              return (shape.height, shape.width, channels)
            }
            for k in 0..<size { out[i * size + k] = image.pixels[k] }
          } catch let error as ImageFileError {
            failed[i] = DatasetError(error.description)
          } catch {
            failed[i] = error
          }
        }
      }
    }
    if let first = failures.first(where: { $0 != nil }) { throw first! }
    return images
  }

  /// The visible entries of a directory, sorted.
  private static func entries(_ path: String, what: String) throws -> [String] {
    switch pathKind(path) {
    case .directory: break
    case .unreachable(let why, _): throw DatasetError("\(what) \(quoted(path)) \(why)")
    case .file, .other: throw DatasetError("\(what) \(quoted(path)) is not a directory")
    }
    do {
      return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
    } catch {
      throw DatasetError("cannot list the \(what) \(quoted(path))")
    }
  }

  private static func join(_ a: String, _ b: String) -> String { (a as NSString).appendingPathComponent(b) }
}

extension ImageDataset {
  /// Splits off a held-out part: a `fraction` of each class's images (at least one when the
  /// class has two or more), drawn from `seed`; returns (rest, held out).
  public func split(holdingOut fraction: Double, seed: UInt64) throws -> (ImageDataset, ImageDataset) {
    guard fraction > 0, fraction < 1 else {
      throw DatasetError("the held-out fraction \(fraction) is not between 0 and 1")
    }
    var rng = SeededRandom(seed: seed)
    var (kept, held) = ([Int](), [Int]())
    for c in 0..<classNames.count {
      let members = labels.indices.filter { Int(labels[$0]) == c }
      let order = rng.permutation(members.count).map { members[$0] }
      let n = members.count < 2 ? 0 : Swift.max(1, Int((Double(members.count) * fraction).rounded()))
      held += order.prefix(n)
      kept += order.dropFirst(n)
    }
    guard !held.isEmpty, !kept.isEmpty else {
      throw DatasetError("holding out \(fraction) of \(count) images leaves one side empty")
    }
    return (try subset(kept), try subset(held))
  }

  /// The images at `indices` (valid indices, each once), in index order.
  public func subset(_ indices: [Int]) throws -> ImageDataset {
    let sorted = indices.sorted()
    guard sorted.first.map({ $0 >= 0 }) ?? true, sorted.last.map({ $0 < count }) ?? true else {
      throw DatasetError("subset indices outside 0..<\(count)")
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(sorted.count * imageSize)
    for i in sorted { bytes += images[(i * imageSize)..<((i + 1) * imageSize)] }
    return try ImageDataset(
      images: bytes, labels: sorted.map { labels[$0] }, height: height, width: width, channels: channels,
      classNames: classNames)
  }
}
