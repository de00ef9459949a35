import Tensors

/// Labelled images kept compact as bytes in NHWC order; batches become normalised Float
/// tensors (pixel / 255) only when asked for.
public struct ImageDataset: Sendable {
  public let images: [UInt8]
  public let labels: [UInt8]
  public let height: Int
  public let width: Int
  public let channels: Int
  public let classNames: [String]

  public init(images: [UInt8], labels: [UInt8], height: Int, width: Int, channels: Int, classNames: [String]) throws {
    guard height > 0, width > 0, channels > 0, images.count == labels.count * height * width * channels else {
      throw DatasetError(
        "\(images.count) image bytes do not hold \(labels.count) images of \(height)x\(width)x\(channels)")
    }
    for (i, l) in labels.enumerated() where Int(l) >= classNames.count {
      throw DatasetError("label \(l) of image \(i) is outside the \(classNames.count) classes")
    }
    self.images = images
    self.labels = labels
    self.height = height
    self.width = width
    self.channels = channels
    self.classNames = classNames
  }

  public var count: Int { labels.count }
  public var imageShape: [Int] { [height, width, channels] }
  public var imageSize: Int { height * width * channels }

  /// A fingerprint of the images, labels and geometry (16 hex digits of an FNV-1a hash taken
  /// over 8-byte words): a resumed run compares it with its checkpoint's to be sure it trains
  /// on the same data. Equal data gives equal fingerprints; different data, almost surely not.
  public var fingerprint: String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ bytes: [UInt8]) { h = bytes.withUnsafeBytes { fnv1a($0, continuing: h) } }
    mix(labels)
    mix(images)
    mix([UInt8(truncatingIfNeeded: height), UInt8(truncatingIfNeeded: width), UInt8(truncatingIfNeeded: channels)])
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// The first `n` images (all of them when n >= count).
  public func prefix(_ n: Int) -> ImageDataset {
    let k = Swift.max(0, Swift.min(n, count))
    return ImageDataset(
      validated: Array(images[0..<(k * imageSize)]), labels: Array(labels[0..<k]), of: self)
  }

  /// A slice of an already validated dataset: same geometry and classes.
  private init(validated images: [UInt8], labels: [UInt8], of other: ImageDataset) {
    self.images = images
    self.labels = labels
    height = other.height
    width = other.width
    channels = other.channels
    classNames = other.classNames
  }

  /// The batches of one epoch, in the order drawn from (seed, epoch); the last batch may be
  /// smaller. Each batch is a fresh tensor, augmented as `augmentation` says (drawn from seed,
  /// epoch and each image's index).
  public func batches(
    size: Int, seed: UInt64, epoch: Int, shuffle: Bool = true, augmentation: Augmentation = .none
  ) -> BatchSequence {
    BatchSequence(
      dataset: self, order: epochOrder(seed: seed, epoch: epoch, shuffle: shuffle), size: Swift.max(1, size),
      augmentation: augmentation, seed: seed, epoch: epoch)
  }

  /// Writes the images at `indices` into `into` ([indices.count, H, W, C], pixel / 255) and
  /// returns their labels.
  public func fillBatch(_ indices: ArraySlice<Int>, into batch: Tensor) -> [Int] {
    precondition(batch.count == indices.count * imageSize, "batch tensor of the wrong size")
    let size = imageSize
    let out = batch.data
    images.withUnsafeBufferPointer { src in
      for (row, index) in indices.enumerated() {
        let s = src.baseAddress! + index * size
        let d = out + row * size
        for j in 0..<size { d[j] = Float(s[j]) * (1.0 / 255.0) }
      }
    }
    return indices.map { Int(labels[$0]) }
  }

  /// A new batch tensor for the images at `indices`.
  public func batch(_ indices: ArraySlice<Int>) -> (images: Tensor, labels: [Int]) {
    let t = Tensor(uninitialized: [indices.count, height, width, channels])
    let labels = fillBatch(indices, into: t)
    return (t, labels)
  }

  /// The order of an epoch: a permutation drawn from (seed, epoch) alone, so any epoch's
  /// order can be rebuilt when a run resumes.
  public func epochOrder(seed: UInt64, epoch: Int, shuffle: Bool = true) -> [Int] {
    Datasets.epochOrder(count: count, seed: seed, epoch: epoch, shuffle: shuffle)
  }
}

/// Iterates over a dataset in a fixed order, `size` images at a time.
public struct BatchSequence: Sequence, IteratorProtocol {
  public let dataset: ImageDataset
  public let order: [Int]
  public let size: Int
  public let augmentation: Augmentation
  let seed: UInt64
  let epoch: Int
  private var position = 0

  init(
    dataset: ImageDataset, order: [Int], size: Int, augmentation: Augmentation = .none, seed: UInt64 = 0, epoch: Int = 0
  ) {
    self.dataset = dataset
    self.order = order
    self.size = size
    self.augmentation = augmentation
    self.seed = seed
    self.epoch = epoch
  }

  /// How many batches the sequence yields in all.
  public var count: Int { (order.count + size - 1) / size }

  public mutating func next() -> (images: Tensor, labels: [Int])? {
    guard position < order.count else { return nil }
    let end = Swift.min(order.count, position + size)
    defer { position = end }
    let (images, labels) = dataset.batch(order[position..<end])
    dataset.augment(
      images, indices: Array(order[position..<end]), augmentation: augmentation, seed: seed, epoch: epoch)
    return (images, labels)
  }
}

/// A dataset that cannot be read: missing, truncated or malformed.
public struct DatasetError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
