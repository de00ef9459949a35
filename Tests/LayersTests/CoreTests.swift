import Autograd
import Layers
import Tensors
import XCTest

final class CoreTests: XCTestCase {
  func testFlattenGradients() throws {
    try checkLayerGradients(Flatten(), inputShape: [2, 3, 5, 3])
  }

  func testFlattenKeepsRowMajorOrder() throws {
    let x = try Tensor(shape: [2, 2, 1, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
    let y = try Flatten()(Variable(x))
    XCTAssertEqual(y.shape, [2, 4])
    XCTAssertEqual(y.value.scalars, [1, 2, 3, 4, 5, 6, 7, 8])
    XCTAssertEqual(try Flatten().outputShape(for: [6, 6, 64]), [2304])
  }

  func testKerasNames() {
    XCTAssertEqual(Conv2D(filters: 1, kernelSize: (3, 3)).defaultName, "conv2d")
    XCTAssertEqual(MaxPooling2D().defaultName, "max_pooling2d")
    XCTAssertEqual(GlobalAveragePooling2D().defaultName, "global_average_pooling2d")
    XCTAssertEqual(Dense(units: 1).defaultName, "dense")
    XCTAssertEqual(ReLU().defaultName, "re_lu")
  }
}
