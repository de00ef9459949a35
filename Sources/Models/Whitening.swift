import Autograd
import Datasets
import Foundation
import Layers
import Optimizers
import Tensors

/// The fast recipe's whitening: the kernel of a 2×2 convolution whose filters are ± the
/// eigenvectors of the second moments (not centred, as the recipe takes them) of the
/// training images' 2×2 patches, each divided by
/// √(eigenvalue + ε), largest eigenvalue first. Patches are taken after `normalize` (the
/// model's own input normalisation), from the first `images` images.
public enum Whitening {
  /// The kernel [2, 2, C, 2·4C] for images of C channels.
  public static func kernel(
    from data: ImageDataset, images: Int = 5000, epsilon: Double = 5e-4, normalize: (Tensor) throws -> Tensor
  ) throws -> Tensor {
    let n = Swift.min(images, data.count)
    guard n > 0, data.height >= 2, data.width >= 2 else {
      throw ModelError("whitening needs at least one image of at least 2x2")
    }
    var batches = data.prefix(n).batches(size: n, seed: 0, epoch: 0, shuffle: false).makeIterator()
    let x = try normalize(batches.next()!.images)
    let (h, w, c) = (data.height, data.width, data.channels)
    let d = 4 * c
    // Second moments of all (h − 1)(w − 1) patches of every image, in Double.
    var outer = [Double](repeating: 0, count: d * d)
    var patch = [Double](repeating: 0, count: d)
    for i in 0..<n {
      for y in 0..<(h - 1) {
        for xx in 0..<(w - 1) {
          for (k, (dy, dx)) in [(0, 0), (0, 1), (1, 0), (1, 1)].enumerated() {
            for ch in 0..<c { patch[k * c + ch] = Double(x[((i * h + y + dy) * w + xx + dx) * c + ch]) }
          }
          for a in 0..<d {
            for b in a..<d { outer[a * d + b] += patch[a] * patch[b] }
          }
        }
      }
    }
    let count = Double(n * (h - 1) * (w - 1))
    var covariance = [Double](repeating: 0, count: d * d)
    for a in 0..<d {
      for b in a..<d {
        let v = outer[a * d + b] / count
        covariance[a * d + b] = v
        covariance[b * d + a] = v
      }
    }
    let (values, vectors) = symmetricEigen(covariance, d)
    let order = (0..<d).sorted { values[$0] > values[$1] }
    let kernel = Tensor(zeros: [2, 2, c, 2 * d])
    for (f, e) in order.enumerated() {
      let scale = 1 / (Swift.max(values[e], 0) + epsilon).squareRoot()
      for a in 0..<d {
        kernel[a * 2 * d + f] = Float(vectors[a * d + e] * scale)
        kernel[a * 2 * d + d + f] = Float(-vectors[a * d + e] * scale)
      }
    }
    return kernel
  }

  /// Eigenvalues and eigenvectors (column e of the row-major `vectors`) of a symmetric n×n
  /// matrix, by cyclic Jacobi rotations until the off-diagonal part vanishes.
  public static func symmetricEigen(_ matrix: [Double], _ n: Int) -> (values: [Double], vectors: [Double]) {
    var a = matrix
    var v = [Double](repeating: 0, count: n * n)
    for i in 0..<n { v[i * n + i] = 1 }
    for _ in 0..<100 {
      var off = 0.0
      for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
      if off < 1e-30 { break }
      for p in 0..<n {
        for q in (p + 1)..<n where a[p * n + q] != 0 {
          let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
          let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
          let cosine = 1 / (t * t + 1).squareRoot()
          let sine = t * cosine
          for k in 0..<n {
            let (akp, akq) = (a[k * n + p], a[k * n + q])
            a[k * n + p] = cosine * akp - sine * akq
            a[k * n + q] = sine * akp + cosine * akq
          }
          for k in 0..<n {
            let (apk, aqk) = (a[p * n + k], a[q * n + k])
            a[p * n + k] = cosine * apk - sine * aqk
            a[q * n + k] = sine * apk + cosine * aqk
          }
          for k in 0..<n {
            let (vkp, vkq) = (v[k * n + p], v[k * n + q])
            v[k * n + p] = cosine * vkp - sine * vkq
            v[k * n + q] = sine * vkp + cosine * vkq
          }
        }
      }
    }
    return ((0..<n).map { a[$0 * n + $0] }, v)
  }
}

/// Sets the whitening layer's kernel (`Whitening.kernel`) from the training images when a run
/// starts afresh, and its bias to zeros; a resumed run keeps the checkpoint's. The whitening
/// layer is the model's first `Conv2D` with a frozen kernel; the layers before it are the
/// input normalisation its patches are taken after.
public final class WhiteningFromData: Callback {
  public let images: Int

  public init(images: Int = 5000) {
    self.images = images
  }

  /// The position of the whitening layer in `model`, if it has one.
  public static func layerIndex(in model: Sequential) -> Int? {
    model.layers.firstIndex { ($0 as? Conv2D)?.trainableKernel == false }
  }

  public func trainingBegan(_ context: TrainingContext) throws {
    guard context.epoch == 0 else { return }
    let model = context.model
    guard let i = WhiteningFromData.layerIndex(in: model), let layer = model.layers[i] as? Conv2D else {
      throw TrainingError.badOptions("whitening: the model has no Conv2D with a frozen kernel")
    }
    guard let data = (context.data as? ImageDataset) ?? (context.data as? AugmentedImages)?.images else {
      throw TrainingError.badOptions("whitening needs images (an ImageDataset), got a \(type(of: context.data))")
    }
    let before = model.layers[..<i]
    let kernel = try Whitening.kernel(from: data, images: images) { x in
      try before.reduce(Variable(x)) { h, l in try l(h) }.value
    }
    try layer.setWeights(layer.useBias ? [kernel, Tensor(zeros: [layer.filters])] : [kernel])
  }
}
