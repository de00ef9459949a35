/// Weight initialisers. Glorot-uniform is Keras's default for Conv2D and Dense kernels.
extension Tensor {
  /// Uniform in [-limit, limit] with limit = sqrt(6 / (fanIn + fanOut)).
  public static func glorotUniform(
    shape: [Int], fanIn: Int, fanOut: Int, using rng: inout SeededRandom
  ) -> Tensor {
    let limit = (6.0 / Float(Swift.max(fanIn + fanOut, 1))).squareRoot()
    let t = Tensor(uninitialized: shape)
    let p = t.data
    for i in 0..<t.count { p[i] = rng.uniform(-limit, limit) }
    return t
  }

  /// Uniform in [-limit, limit] with limit = 1/sqrt(fanIn): PyTorch's default for the weights
  /// of `Conv2d` and `Linear` (Kaiming-uniform with a = √5).
  public static func fanInUniform(shape: [Int], fanIn: Int, using rng: inout SeededRandom) -> Tensor {
    let limit = 1 / Float(Swift.max(fanIn, 1)).squareRoot()
    let t = Tensor(uninitialized: shape)
    let p = t.data
    for i in 0..<t.count { p[i] = rng.uniform(-limit, limit) }
    return t
  }

  /// Fan-in and fan-out as Keras computes them: for a kernel [kh, kw, in, out],
  /// fanIn = kh*kw*in and fanOut = kh*kw*out; for a matrix [in, out], in and out.
  public static func fans(ofKernel shape: [Int]) -> (fanIn: Int, fanOut: Int) {
    guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
    let receptive = shape.dropLast(2).reduce(1, *)
    return (receptive * shape[shape.count - 2], receptive * shape[shape.count - 1])
  }
}
