import Tensors

/// How a kernel (of a convolution or a dense layer) starts.
public enum KernelInitializer: String, Sendable, Choice {
  /// Keras's default: uniform in ±√(6 / (fanIn + fanOut)).
  case glorotUniform = "glorot_uniform"
  /// PyTorch's default for `Conv2d` and `Linear`: uniform in ±1/√fanIn.
  case fanInUniform = "fan_in_uniform"
  /// Convolutions only: the first min(in, filters) filters pass their input channel through
  /// (a 1 at the kernel's centre), the others uniform in ±1/√fanIn, as PyTorch's `dirac_` on a
  /// default-initialised `Conv2d`: the fast recipe's start.
  case dirac
}

extension KernelInitializer {
  /// A kernel of `shape` ([kh, kw, in, out] or [in, out]) drawn from `rng`.
  func kernel(_ shape: [Int], using rng: inout SeededRandom) -> Tensor {
    let (fanIn, fanOut) = Tensor.fans(ofKernel: shape)
    switch self {
    case .glorotUniform: return Tensor.glorotUniform(shape: shape, fanIn: fanIn, fanOut: fanOut, using: &rng)
    case .fanInUniform: return Tensor.fanInUniform(shape: shape, fanIn: fanIn, using: &rng)
    case .dirac:
      let t = Tensor.fanInUniform(shape: shape, fanIn: fanIn, using: &rng)
      guard shape.count == 4 else { return t }
      let (kh, kw, cin, filters) = (shape[0], shape[1], shape[2], shape[3])
      for o in 0..<Swift.min(cin, filters) {
        for i in 0..<(kh * kw * cin) { t[i * filters + o] = 0 }
        t[(((kh / 2) * kw + kw / 2) * cin + o) * filters + o] = 1
      }
      return t
    }
  }
}
