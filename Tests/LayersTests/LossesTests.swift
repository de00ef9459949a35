import Autograd
import Layers
import Tensors
import XCTest

final class LossesTests: XCTestCase {
  func testFromLogitsGradients() throws {
    let loss = Loss.sparseCategoricalCrossentropy(fromLogits: true)
    try checkGradients(input: randomTensor([4, 5], seed: 3), parameters: []) { x in
      try loss(x, labels: [0, 4, 2, 2])
    }
  }

  func testFromProbabilitiesGradients() throws {
    // Probabilities well inside (eps, 1 - eps), as a Softmax layer produces.
    let p = randomTensor([3, 4], seed: 4)
    for i in 0..<p.count { p[i] = 0.2 + 0.15 * p[i] }
    let loss = Loss.sparseCategoricalCrossentropy(fromLogits: false)
    try checkGradients(input: p, parameters: [], eps: 1e-4) { x in try loss(x, labels: [1, 0, 3]) }
  }

  func testSoftmaxThenProbabilityLossGradients() throws {
    let loss = Loss.sparseCategoricalCrossentropy(fromLogits: false)
    try checkGradients(input: randomTensor([3, 4], seed: 5), parameters: []) { x in
      try loss(softmax(x), labels: [1, 0, 3])
    }
  }

  func testValuesByHand() throws {
    // logits [0, ln 3]: p = [1/4, 3/4]; labels 1 and 0 give -(ln 3/4 + ln 1/4) / 2.
    let logits = Variable(try Tensor(shape: [2, 2], values: [0, Float(log(3.0)), 0, Float(log(3.0))]))
    let expected = -(log(0.75) + log(0.25)) / 2
    let a = try Loss.sparseCategoricalCrossentropy(fromLogits: true)(logits, labels: [1, 0])
    XCTAssertEqual(Double(a.value[0]), expected, accuracy: 1e-6)
    let b = try Loss.sparseCategoricalCrossentropy(fromLogits: false)(softmax(logits), labels: [1, 0])
    XCTAssertEqual(Double(b.value[0]), expected, accuracy: 1e-6)
  }

  func testStableForHugeLogits() throws {
    let logits = Variable(try Tensor(shape: [1, 3], values: [1e4, 0, -1e4]))
    let l = try Loss.sparseCategoricalCrossentropy(fromLogits: true)(logits, labels: [1])
    XCTAssertEqual(l.value[0], 1e4, accuracy: 1)
    // From probabilities, Keras clips at 1e-7: -ln(1e-7) ~ 16.1.
    let p = try Loss.sparseCategoricalCrossentropy(fromLogits: false)(softmax(logits), labels: [1])
    XCTAssertEqual(p.value[0], 16.118, accuracy: 0.01)
  }

  func testBadLabelsThrow() {
    let logits = Variable(Tensor(zeros: [2, 3]))
    XCTAssertThrowsError(try Loss.sparseCategoricalCrossentropy(fromLogits: true)(logits, labels: [0, 3])) { e in
      XCTAssertTrue("\(e)".contains("label 3 at position 1"), "\(e)")
    }
    XCTAssertThrowsError(try Loss.sparseCategoricalCrossentropy(fromLogits: true)(logits, labels: [0]))
  }
}
