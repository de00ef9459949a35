import Autograd
import Layers
import Tensors
import XCTest

final class ActivationsTests: XCTestCase {
  func testReLUGradients() throws {
    try checkLayerGradients(ReLU(), inputShape: [2, 3, 5, 3])
  }

  func testSoftmaxGradients() throws {
    try checkLayerGradients(Softmax(), inputShape: [3, 7])
  }

  func testReLUForward() throws {
    let y = try ReLU()(Variable(Tensor(shape: [1, 4], values: [-2, 0, 0.5, 3])))
    XCTAssertEqual(y.value.scalars, [0, 0, 0.5, 3])
  }

  func testSoftmaxIsStableAndSumsToOne() throws {
    let y = try Softmax()(Variable(Tensor(shape: [2, 3], values: [1000, 1000, 1000, 1, 2, 3])))
    for v in y.value.scalars { XCTAssertTrue(v.isFinite) }
    XCTAssertEqual(y.value[0], 1.0 / 3, accuracy: 1e-6)
    let e = [exp(1.0), exp(2.0), exp(3.0)]
    XCTAssertEqual(Double(y.value[5]), e[2] / e.reduce(0, +), accuracy: 1e-6)
  }
}
