import Autograd
import Datasets
import Layers
import Optimizers
import Tensors

/// Views of each test image whose outputs `evaluate` averages.
public enum TestTimeAugmentation: Equatable, Sendable {
  case none
  /// The image and its mirror image, half each.
  case mirror
  /// The fast recipe's six views: half the mirror pair of the image, and a quarter each the
  /// mirror pairs of the image shifted by one pixel up-left and down-right (reflected edges).
  case mirrorTranslate
}

extension Sequential {
  /// Outputs for a batch of images [N] + inputShape in inference mode, averaged over the views
  /// of `testTimeAugmentation`.
  public func predict(_ images: Tensor, testTimeAugmentation: TestTimeAugmentation) throws -> Tensor {
    func mirrored(_ x: Tensor) throws -> Tensor {
      let a = try predict(x)
      let b = try predict(try view(x, dy: 0, dx: 0, mirror: true))
      return combine([(a, 0.5), (b, 0.5)])
    }
    switch testTimeAugmentation {
    case .none: return try predict(images)
    case .mirror: return try mirrored(images)
    case .mirrorTranslate:
      let center = try mirrored(images)
      let upLeft = try mirrored(try view(images, dy: -1, dx: -1, mirror: false))
      let downRight = try mirrored(try view(images, dy: 1, dx: 1, mirror: false))
      return combine([(center, 0.5), (upLeft, 0.25), (downRight, 0.25)])
    }
  }

  /// The batch with every image shifted (`shiftImage`) and possibly mirrored.
  private func view(_ x: Tensor, dy: Int, dx: Int, mirror: Bool) throws -> Tensor {
    guard x.shape.count == 4 else { throw ModelError("test-time augmentation needs NHWC images, got \(x.shape)") }
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    guard h > 1, w > 1 else { throw ModelError("test-time augmentation needs images of at least 2x2, got \(h)x\(w)") }
    let out = Tensor(uninitialized: x.shape)
    let (src, dst, size) = (x.data, out.data, h * w * c)
    parallelFor(n) { i in
      shiftImage(src + i * size, dst + i * size, height: h, width: w, channels: c, dy: dy, dx: dx, mirror: mirror)
    }
    return out
  }

  /// Σ weight · tensor, in the order given.
  private func combine(_ terms: [(Tensor, Float)]) -> Tensor {
    let out = Tensor(zeros: terms[0].0.shape)
    for (t, weight) in terms {
      for i in 0..<out.count { out.data[i] += weight * t.data[i] }
    }
    return out
  }
}
