import Tensors

/// Inverted dropout: each value is kept with probability 1 − rate and scaled by 1/(1 − rate),
/// or set to 0; the gradient passes through the kept values, scaled the same. The draws are
/// `randomUnit(seed, image, index)` (see Draws.swift): reproducible and resumable.
public func dropout(_ x: Variable, rate: Float, seed: UInt64) throws -> Variable {
  guard rate >= 0, rate < 1 else { throw TensorError("dropout rate must lie in [0, 1), got \(rate)") }
  guard rate > 0, x.value.count > 0 else { return x }
  let images = x.shape.first ?? 1
  let size = x.value.count / Swift.max(images, 1)
  let hashes = imageHashes(x.value)
  let scale = 1 / (1 - rate)
  let mask = Tensor(uninitialized: x.shape)
  let y = Tensor(uninitialized: x.shape)
  let (xp, mp, yp) = (x.value.data, mask.data, y.data)
  parallelFor(images) { n in
    for i in 0..<size {
      let keep: Float = randomUnit(seed, hashes[n], i) < rate ? 0 : scale
      mp[n * size + i] = keep
      yp[n * size + i] = xp[n * size + i] * keep
    }
  }
  return makeOutput("dropout", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: dy.shape)
    let (dyp, dxp, kept) = (dy.data, dx.data, mask.data)
    parallelFor(images) { n in
      for i in (n * size)..<((n + 1) * size) { dxp[i] = dyp[i] * kept[i] }
    }
    return [dx]
  }
}
