import CNN
import XCTest

/// Central differences of the scalar `loss` against its analytic gradients with respect to
/// each of `values` (and any parameters in `parameters`), element by element. `loss` is given
/// the values as variables: on a tape for the analytic pass, plain for the numeric one.
func checkGradients(
  _ values: [Tensor], parameters: [Variable] = [], tolerance: Double = 1e-2, file: StaticString = #filePath,
  line: UInt = #line, _ loss: ([Variable]) throws -> Variable
) throws {
  let tape = Tape()
  let inputs = values.map { tape.input($0, requiresGrad: true) }
  for p in parameters { p.grad = nil }
  try tape.backward(try loss(inputs))
  let targets = zip(values, inputs.map(\.grad)).map { ($0, $1) } + parameters.map { ($0.value, $0.grad) }
  let eps: Float = 1e-3
  for (k, (t, grad)) in targets.enumerated() {
    let g = try XCTUnwrap(grad, "no gradient for operand \(k)", file: file, line: line)
    XCTAssertEqual(g.shape, t.shape, file: file, line: line)
    for i in 0..<t.count {
      let saved = t[i]
      t[i] = saved + eps
      let plus = Double(try loss(values.map { Variable($0) }).value[0])
      t[i] = saved - eps
      let minus = Double(try loss(values.map { Variable($0) }).value[0])
      t[i] = saved
      let numeric = (plus - minus) / (2 * Double(eps))
      let analytic = Double(g[i])
      if abs(analytic - numeric) > tolerance * max(1, abs(analytic), abs(numeric)) {
        XCTFail("operand \(k)[\(i)]: analytic \(analytic), numeric \(numeric)", file: file, line: line)
        return
      }
    }
  }
}

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  let t = Tensor(zeros: shape)
  var rng = SeededRandom(seed: seed)
  for i in 0..<t.count { t[i] = rng.uniform(-1, 1) }
  return t
}

/// A fixed random tensor to weigh outputs with, so that a loss depends on every element.
func probe(_ x: Variable, seed: UInt64) throws -> Variable {
  sum(try x * Variable(randomTensor(x.shape, seed: seed)))
}
