import Autograd
import Layers
import Tensors
import XCTest

final class DenseTests: XCTestCase {
  func testGradients() throws {
    try checkLayerGradients(Dense(units: 5), inputShape: [3, 7])
  }

  func testGradientsRelu() throws {
    try checkLayerGradients(Dense(units: 4, activation: .relu), inputShape: [3, 6], seed: 4)
  }

  func testGradientsSoftmax() throws {
    try checkLayerGradients(Dense(units: 4, activation: .softmax), inputShape: [2, 5], seed: 9)
  }

  func testForwardByHand() throws {
    let d = Dense(units: 2)
    var rng = SeededRandom(seed: 0)
    try d.build(inputShape: [3], rng: &rng)
    try d.setWeights([
      Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]), Tensor(shape: [2], values: [0.5, -1]),
    ])
    let y = try d(Variable(Tensor(shape: [1, 3], values: [1, 1, 2])))
    // [1 1 2] · [[1 2] [3 4] [5 6]] = [14, 18]; plus bias.
    XCTAssertEqual(y.value.scalars, [14.5, 17])
  }

  func testWrongInputSizeThrows() throws {
    let d = Dense(units: 2)
    var rng = SeededRandom(seed: 0)
    try d.build(inputShape: [3], rng: &rng)
    XCTAssertThrowsError(try d.outputShape(for: [4])) { e in
      XCTAssertTrue("\(e)".contains("expects 3 input features, got 4"), "\(e)")
    }
    XCTAssertThrowsError(try d(Variable(Tensor(zeros: [1, 4]))))
    XCTAssertThrowsError(try d.setWeights([Tensor(zeros: [3, 3]), Tensor(zeros: [2])])) { e in
      XCTAssertTrue("\(e)".contains("[3, 2]"), "\(e)")
    }
  }
}
