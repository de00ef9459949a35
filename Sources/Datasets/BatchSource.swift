import Tensors

/// Anything `fit` and `evaluate` can take labelled examples from: images, float features,
/// any number of classes.
public protocol BatchSource {
  /// How many examples there are.
  var count: Int { get }
  /// One example's shape, without the batch axis: the model's input shape.
  var exampleShape: [Int] { get }
  /// The examples at `indices` as one batch, [indices.count] + exampleShape, with their class
  /// labels. `seed` and `epoch` are for sources that draw something per epoch (augmentation);
  /// evaluation passes 0 for both.
  func batch(_ indices: ArraySlice<Int>, seed: UInt64, epoch: Int) throws -> (inputs: Tensor, labels: [Int])
}

/// The order of an epoch over `count` examples: a permutation drawn from (seed, epoch) alone,
/// so any epoch's order can be rebuilt when a run resumes; 0..<count without `shuffle`.
public func epochOrder(count: Int, seed: UInt64, epoch: Int, shuffle: Bool = true) -> [Int] {
  guard count > 0 else { return [] }
  guard shuffle else { return Array(0..<count) }
  var rng = SeededRandom(seed: seed &+ 0x5EED_0000 &+ UInt64(epoch) &* 0x9E37_79B9)
  return rng.permutation(count)
}

/// Examples held in memory: a tensor [N] + exampleShape and N labels.
public struct TensorDataset: BatchSource {
  public let inputs: Tensor
  public let labels: [Int]

  public init(inputs: Tensor, labels: [Int]) throws {
    guard inputs.rank >= 1, inputs.shape[0] == labels.count else {
      throw DatasetError("\(labels.count) labels for inputs of shape \(inputs.shape)")
    }
    if let bad = labels.firstIndex(where: { $0 < 0 }) {
      throw DatasetError("label \(labels[bad]) at position \(bad) is negative")
    }
    self.inputs = inputs
    self.labels = labels
  }

  public var count: Int { labels.count }
  public var exampleShape: [Int] { Array(inputs.shape.dropFirst()) }

  public func batch(_ indices: ArraySlice<Int>, seed: UInt64, epoch: Int) throws -> (inputs: Tensor, labels: [Int]) {
    let size = exampleShape.reduce(1, *)
    let out = Tensor(uninitialized: [indices.count] + exampleShape)
    for (row, i) in indices.enumerated() {
      guard i >= 0 && i < count else { throw DatasetError("example \(i) is outside 0..<\(count)") }
      (out.data + row * size).update(from: inputs.data + i * size, count: size)
    }
    return (out, indices.map { labels[$0] })
  }
}

/// An image dataset whose training batches are augmented on the fly, drawn from the seed, the
/// epoch and each image's index.
public struct AugmentedImages: BatchSource {
  public let images: ImageDataset
  public let augmentation: Augmentation

  public init(_ images: ImageDataset, augmentation: Augmentation) throws {
    try augmentation.validate(height: images.height, width: images.width)
    self.images = images
    self.augmentation = augmentation
  }

  public var count: Int { images.count }
  public var exampleShape: [Int] { images.imageShape }

  public func batch(_ indices: ArraySlice<Int>, seed: UInt64, epoch: Int) throws -> (inputs: Tensor, labels: [Int]) {
    let (inputs, labels) = try images.batch(indices, seed: seed, epoch: epoch)
    images.augment(inputs, indices: Array(indices), augmentation: augmentation, seed: seed, epoch: epoch)
    return (inputs, labels)
  }
}

extension ImageDataset: BatchSource {
  public var exampleShape: [Int] { imageShape }

  public func batch(_ indices: ArraySlice<Int>, seed: UInt64, epoch: Int) throws -> (inputs: Tensor, labels: [Int]) {
    for i in indices where i < 0 || i >= count { throw DatasetError("image \(i) is outside 0..<\(count)") }
    let (images, labels) = batch(indices)
    return (images, labels)
  }

  /// Augments the batch `images` (of the images at `indices`) in place.
  func augment(_ images: Tensor, indices: [Int], augmentation: Augmentation, seed: UInt64, epoch: Int) {
    guard augmentation != .none else { return }
    let (size, h, w, c, data) = (imageSize, height, width, channels, images.data)
    parallelFor(indices.count) { i in
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size)
      defer { scratch.deallocate() }
      augmentation.apply(
        data + i * size, scratch: scratch, height: h, width: w, channels: c, seed: seed, epoch: epoch,
        index: indices[i])
    }
  }
}

extension ImageDataset {
  /// The images with `augmentation` applied as `fit` draws batches (see `AugmentedImages`).
  public func augmented(_ augmentation: Augmentation) throws -> AugmentedImages {
    try AugmentedImages(self, augmentation: augmentation)
  }
}
