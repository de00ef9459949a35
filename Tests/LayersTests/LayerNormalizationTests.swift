import Autograd
import Layers
import Tensors
import XCTest

/// Layer normalisation: finite differences, a hand-computed row, and its config.
final class LayerNormalizationTests: XCTestCase {
  func built(_ layer: LayerNormalization, _ shape: [Int]) throws -> LayerNormalization {
    var rng = SeededRandom(seed: 1)
    try layer.build(inputShape: shape, rng: &rng)
    for (k, p) in layer.parameters.enumerated() {
      p.variable.value = randomTensor(p.variable.shape, seed: 10 + UInt64(k))
    }
    return layer
  }

  func testGradients() throws {
    for layer in [LayerNormalization(), LayerNormalization(center: false), LayerNormalization(scale: false)] {
      let l = try built(layer, [3, 2, 5])
      let r = randomTensor([4, 3, 2, 5], seed: 4)
      try checkGradients(input: randomTensor([4, 3, 2, 5], seed: 5), parameters: l.parameters) { x in
        try weightedSum(try l(x), weights: r)
      }
    }
  }

  /// [1, 2, 3, 4]: mean 2.5, variance 1.25, ε = 0.001; γ = 2, β = 1.
  func testOneRowByHand() throws {
    let layer = try built(LayerNormalization(), [4])
    layer.parameters[0].variable.value = Tensor(shape: [4], repeating: 2)
    layer.parameters[1].variable.value = Tensor(shape: [4], repeating: 1)
    let y = try layer(Variable(try Tensor(shape: [1, 4], values: [1, 2, 3, 4]))).value
    for (i, x) in [1, 2, 3, 4].enumerated() {
      XCTAssertEqual(y[i], 2 * (Float(x) - 2.5) / (1.25 + 0.001).squareRoot() + 1, accuracy: 1e-5)
    }
    XCTAssertThrowsError(try layer(Variable(Tensor(zeros: [1, 3])))) {
      XCTAssert("\($0)".contains("built for 4 channels"), "\($0)")
    }
    XCTAssertThrowsError(try LayerNormalization(epsilon: 0).outputShape(for: [4]))
  }

  func testConfigRoundTrip() throws {
    let layer = LayerNormalization(epsilon: 0.01, center: false)
    let config = try XCTUnwrap(try layer.config())
    XCTAssertEqual(config.type, "LayerNormalization")
    let rebuilt = try XCTUnwrap(try LayerRegistry.make(config) as? LayerNormalization)
    XCTAssertEqual([rebuilt.epsilon], [0.01])
    XCTAssertEqual([rebuilt.center, rebuilt.scale], [false, true])
    XCTAssertEqual(try rebuilt.config(), config)
  }
}
