import Foundation
import Tensors

/// The CIFAR-10 binary layout: files of 3,073-byte records, each 1 label byte (0–9) then the
/// 1,024 red, 1,024 green and 1,024 blue bytes of a 32×32 image, each plane row-major.
public enum CIFAR10 {
  public static let recordSize = 3073
  public static let side = 32
  public static let defaultClassNames = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
  ]
  public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
  public static let testFiles = ["test_batch.bin"]

  public enum Split: String, Sendable { case train, test }

  /// Loads a split from a `cifar-10-batches-bin` directory, optionally only the first
  /// `limit` images. Class names come from batches.meta.txt when present.
  public static func load(directory: String, split: Split, limit: Int? = nil) throws -> ImageDataset {
    switch pathKind(directory) {
    case .directory: break
    case .unreachable(_, let missing) where missing:
      throw DatasetError(
        "CIFAR-10 directory \(quoted(directory)) does not exist; run Scripts/get-cifar10.sh (or set CIFAR10_ARCHIVE to a local cifar-10-binary.tar.gz) to fetch it"
      )
    case .unreachable(let why, _): throw DatasetError("CIFAR-10 directory \(quoted(directory)) \(why)")
    case .file, .other: throw DatasetError("\(quoted(directory)) is a file, not a cifar-10-batches-bin directory")
    }
    let names = try classNames(directory: directory)
    var images: [UInt8] = []
    var labels: [UInt8] = []
    for file in split == .train ? trainFiles : testFiles {
      if let limit, labels.count >= limit { break }
      let path = (directory as NSString).appendingPathComponent(file)
      if case .unreachable(_, true) = pathKind(path) { throw DatasetError("missing CIFAR-10 file \(quoted(path))") }
      let data: [UInt8]
      do {
        data = try readFile(path, what: "CIFAR-10 file", limit: 1 << 30)
      } catch let e as TensorError {
        throw DatasetError(e.message)
      }
      let wanted = limit.map { $0 - labels.count }
      try decode(data, name: quoted(path), classes: names.count, limit: wanted, images: &images, labels: &labels)
    }
    return try ImageDataset(images: images, labels: labels, height: side, width: side, channels: 3, classNames: names)
  }

  /// Decodes records into NHWC bytes; throws on a size that is not a whole number of
  /// records or a label outside the classes.
  public static func decode(
    _ bytes: [UInt8], name: String, classes: Int = 10, limit: Int? = nil,
    images: inout [UInt8], labels: inout [UInt8]
  ) throws {
    guard !bytes.isEmpty else { throw DatasetError("\(name) is empty") }
    guard bytes.count % recordSize == 0 else {
      throw DatasetError(
        "\(name) has \(bytes.count) bytes, not a multiple of the \(recordSize)-byte record: truncated or not CIFAR-10 binary"
      )
    }
    var n = bytes.count / recordSize
    if let limit { n = Swift.min(n, Swift.max(limit, 0)) }
    let plane = side * side
    let base = images.count
    images.reserveCapacity(base + n * plane * 3)
    images.append(contentsOf: repeatElement(0, count: n * plane * 3))
    try bytes.withUnsafeBufferPointer { src in
      try images.withUnsafeMutableBufferPointer { dst in
        for r in 0..<n {
          let rec = src.baseAddress! + r * recordSize
          let label = rec[0]
          guard Int(label) < classes else {
            throw DatasetError("\(name): record \(r) has label \(label), but labels run 0...\(classes - 1)")
          }
          labels.append(label)
          let out = dst.baseAddress! + base + r * plane * 3
          for p in 0..<plane {
            out[p * 3] = rec[1 + p]
            out[p * 3 + 1] = rec[1 + plane + p]
            out[p * 3 + 2] = rec[1 + 2 * plane + p]
          }
        }
      }
    }
  }

  /// Class names from batches.meta.txt (one per line), or the standard ten.
  public static func classNames(directory: String) throws -> [String] {
    let path = (directory as NSString).appendingPathComponent("batches.meta.txt")
    if case .unreachable(_, true) = pathKind(path) { return defaultClassNames }
    let text: String
    do {
      text = String(decoding: try readFile(path, what: "the class-name file", limit: 1 << 20), as: UTF8.self)
    } catch let e as TensorError {
      throw DatasetError(e.message)
    }
    let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    guard names.count == 10 else {
      throw DatasetError("\(quoted(path)) lists \(names.count) class names, expected 10")
    }
    return names
  }
}
