import Tensors

// Elementwise and matrix ops on variables, each with its backward pass: the building blocks
// of custom layers and losses. Elementwise ops take operands of the same shape (no
// broadcasting) and throw otherwise.

extension Variable {
  public static func + (a: Variable, b: Variable) throws -> Variable {
    try elementwise("add", a, b, { $0 + $1 }) { g, _, _ in (g, g) }
  }

  public static func - (a: Variable, b: Variable) throws -> Variable {
    try elementwise("subtract", a, b, { $0 - $1 }) { g, _, _ in (g, -g) }
  }

  /// The elementwise (Hadamard) product.
  public static func * (a: Variable, b: Variable) throws -> Variable {
    try elementwise("multiply", a, b, { $0 * $1 }) { g, x, y in (g * y, g * x) }
  }

  public static func * (s: Float, x: Variable) -> Variable {
    mapElements(x, "scale", { s * $0 }) { _, _ in s }
  }

  public static prefix func - (x: Variable) -> Variable { -1 * x }
}

/// f applied to every element, with its derivative `df(x, f(x))` for the backward pass.
public func mapElements(
  _ x: Variable, _ name: String, _ f: (Float) -> Float, derivative df: @escaping (Float, Float) -> Float
) -> Variable {
  let y = Tensor(uninitialized: x.shape)
  for i in 0..<y.count { y.data[i] = f(x.value.data[i]) }
  return makeOutput(name, y, inputs: [x]) { g in
    let d = Tensor(uninitialized: x.shape)
    for i in 0..<d.count { d.data[i] = g.data[i] * df(x.value.data[i], y.data[i]) }
    return [d]
  }
}

/// f on pairs of elements of two same-shaped variables; `df(g, a, b)` gives the gradient
/// parts for a and b from the output's gradient g.
private func elementwise(
  _ name: String, _ a: Variable, _ b: Variable, _ f: (Float, Float) -> Float,
  _ df: @escaping (Float, Float, Float) -> (Float, Float)
) throws -> Variable {
  guard a.shape == b.shape else { throw TensorError("\(name): shapes \(a.shape) and \(b.shape) differ") }
  let y = Tensor(uninitialized: a.shape)
  for i in 0..<y.count { y.data[i] = f(a.value.data[i], b.value.data[i]) }
  return makeOutput(name, y, inputs: [a, b]) { g in
    let da = Tensor(uninitialized: a.shape)
    let db = Tensor(uninitialized: b.shape)
    for i in 0..<g.count {
      (da.data[i], db.data[i]) = df(g.data[i], a.value.data[i], b.value.data[i])
    }
    return [da, db]
  }
}

/// The matrix product a·b of a [m, k] and b [k, n]. Backward: da = g·bᵀ, db = aᵀ·g.
public func matmul(_ a: Variable, _ b: Variable) throws -> Variable {
  guard a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[0] else {
    throw TensorError("matmul: shapes \(a.shape) and \(b.shape) do not multiply")
  }
  let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
  let y = Tensor(uninitialized: [m, n])
  gemm(
    m: m, n: n, k: k, a: a.value.data, lda: k, transA: false, b: b.value.data, ldb: n, transB: false, c: y.data,
    ldc: n, accumulate: false)
  return makeOutput("matmul", y, inputs: [a, b]) { g in
    let da = Tensor(uninitialized: a.shape)
    let db = Tensor(uninitialized: b.shape)
    gemm(
      m: m, n: k, k: n, a: g.data, lda: n, transA: false, b: b.value.data, ldb: n, transB: true, c: da.data,
      ldc: k, accumulate: false)
    gemm(
      m: k, n: n, k: m, a: a.value.data, lda: k, transA: true, b: g.data, ldb: n, transB: false, c: db.data,
      ldc: n, accumulate: false)
    return [da, db]
  }
}

/// The sum of all elements, as a scalar.
public func sum(_ x: Variable) -> Variable {
  let total = Tensor(shape: [], repeating: Float(x.value.sum()))
  return makeOutput("sum", total, inputs: [x]) { g in [Tensor(shape: x.shape, repeating: g[0])] }
}

/// The mean of all elements, as a scalar.
public func mean(_ x: Variable) -> Variable {
  (1 / Float(max(1, x.value.count))) * sum(x)
}
