import Autograd
import Layers
import Tensors
import XCTest

/// Distinct, well-spaced values in [-1, 1] (none within 1/n of another or of zero), so a
/// finite-difference step never crosses a ReLU kink or a max-pooling tie.
func spacedTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  let t = Tensor(zeros: shape)
  var rng = SeededRandom(seed: seed)
  let perm = rng.permutation(t.count)
  for i in 0..<t.count { t[i] = (Float(perm[i]) + 0.5) / Float(t.count) * 2 - 1 }
  return t
}

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  let t = Tensor(zeros: shape)
  var rng = SeededRandom(seed: seed)
  for i in 0..<t.count { t[i] = rng.uniform(-1, 1) }
  return t
}

/// Compares analytic gradients of `loss(x)` with central differences, for the input and every
/// parameter. `loss` must be differentiable and built from ops on the given variable.
func checkGradients(
  input: Tensor, parameters: [Parameter], eps: Float = 1e-3, tolerance: Double = 1e-2,
  file: StaticString = #filePath, line: UInt = #line,
  _ loss: (Variable) throws -> Variable
) throws {
  // Analytic.
  let tape = Tape()
  let x = tape.input(input, requiresGrad: true)
  for p in parameters { p.variable.grad = nil }
  let l = try loss(x)
  try tape.backward(l)
  let dx = try XCTUnwrap(x.grad, "no input gradient", file: file, line: line)
  var checked = 0
  func numeric(_ t: Tensor, _ i: Int) throws -> Double {
    let saved = t[i]
    t[i] = saved + eps
    let plus = Double(try loss(Variable(input)).value[0])
    t[i] = saved - eps
    let minus = Double(try loss(Variable(input)).value[0])
    t[i] = saved
    return (plus - minus) / (2 * Double(eps))
  }
  func compare(_ name: String, _ t: Tensor, _ g: Tensor) throws {
    XCTAssertEqual(g.shape, t.shape, "\(name) gradient shape", file: file, line: line)
    for i in 0..<t.count {
      let n = try numeric(t, i)
      let a = Double(g[i])
      checked += 1
      if abs(a - n) > tolerance * max(1, abs(a), abs(n)) {
        XCTFail("\(name)[\(i)]: analytic \(a), numeric \(n)", file: file, line: line)
        return
      }
    }
  }
  try compare("input", input, dx)
  for p in parameters {
    let g = try XCTUnwrap(p.variable.grad, "no gradient for \(p.name)", file: file, line: line)
    try compare(p.name, p.variable.value, g)
  }
  XCTAssertGreaterThan(checked, 0, file: file, line: line)
}

/// Gradient check of a layer on a batch of the given shape, through sum(y * r) with fixed r.
func checkLayerGradients(
  _ layer: Layer, inputShape: [Int], seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line
) throws {
  var rng = SeededRandom(seed: seed)
  try layer.build(inputShape: Array(inputShape.dropFirst()), rng: &rng)
  // Non-zero biases, so their effect is visible.
  for p in layer.parameters where p.name == "bias" {
    for i in 0..<p.variable.value.count { p.variable.value[i] = rng.uniform(-0.5, 0.5) }
  }
  let x = spacedTensor(inputShape, seed: seed + 1)
  let outShape = [inputShape[0]] + (try layer.outputShape(for: Array(inputShape.dropFirst())))
  let r = randomTensor(outShape, seed: seed + 2)
  try checkGradients(input: x, parameters: layer.parameters.filter(\.trainable), file: file, line: line) { v in
    let y = try layer(v)
    XCTAssertEqual(y.shape, outShape, "forward shape matches outputShape", file: file, line: line)
    return try weightedSum(y, weights: r)
  }
}
