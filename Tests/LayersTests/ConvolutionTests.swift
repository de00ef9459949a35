import Autograd
import Layers
import Tensors
import XCTest

final class ConvolutionTests: XCTestCase {
  func testGradientsValidStride1() throws {
    try checkLayerGradients(Conv2D(filters: 4, kernelSize: (3, 3)), inputShape: [2, 5, 7, 3])
  }

  func testGradientsSameStride2Relu() throws {
    try checkLayerGradients(
      Conv2D(filters: 3, kernelSize: (3, 2), strides: (2, 2), padding: .same, activation: .relu),
      inputShape: [2, 5, 7, 3], seed: 7)
  }

  func testGradientsOneByOneNoBias() throws {
    try checkLayerGradients(
      Conv2D(filters: 2, kernelSize: (1, 1), useBias: false), inputShape: [1, 3, 5, 3], seed: 3)
  }

  /// A batch of 5 runs in 4 uneven chunks, through im2col and through the direct 1x1 path.
  func testGradientsOverSeveralChunks() throws {
    try checkLayerGradients(Conv2D(filters: 2, kernelSize: (2, 2)), inputShape: [5, 3, 3, 2], seed: 4)
    try checkLayerGradients(Conv2D(filters: 2, kernelSize: (1, 1)), inputShape: [5, 2, 3, 3], seed: 4)
  }

  func testGradientsSoftmaxActivation() throws {
    try checkLayerGradients(
      Conv2D(filters: 3, kernelSize: (2, 2), padding: .same, activation: .softmax),
      inputShape: [1, 3, 3, 2], seed: 5)
  }

  func testOutputShapes() throws {
    // valid: floor((n - f) / s) + 1; same: ceil(n / s)
    XCTAssertEqual(try Conv2D(filters: 8, kernelSize: (3, 3)).outputShape(for: [32, 32, 3]), [30, 30, 8])
    XCTAssertEqual(
      try Conv2D(filters: 2, kernelSize: (3, 3), strides: (2, 2)).outputShape(for: [8, 7, 1]), [3, 3, 2])
    XCTAssertEqual(
      try Conv2D(filters: 2, kernelSize: (3, 3), strides: (2, 2), padding: .same).outputShape(for: [5, 7, 1]),
      [3, 4, 2])
  }

  func testKernelLargerThanInputThrows() {
    XCTAssertThrowsError(try Conv2D(filters: 1, kernelSize: (5, 5)).outputShape(for: [4, 4, 1])) { e in
      XCTAssertTrue("\(e)".contains("larger than its input 4x4"), "\(e)")
    }
    XCTAssertThrowsError(try Conv2D(filters: 0, kernelSize: (3, 3)).outputShape(for: [4, 4, 1]))
    XCTAssertThrowsError(try Conv2D(filters: 1, kernelSize: (3, 3), strides: (0, 1)).outputShape(for: [4, 4, 1]))
  }

  func testParameterShapesAndCount() throws {
    let c = Conv2D(filters: 32, kernelSize: (3, 3))
    var rng = SeededRandom(seed: 0)
    try c.build(inputShape: [32, 32, 3], rng: &rng)
    XCTAssertEqual(c.parameters.map(\.name), ["kernel", "bias"])
    XCTAssertEqual(c.kernel?.shape, [3, 3, 3, 32])
    XCTAssertEqual(c.parameterCount, 896)
    // Glorot-uniform limit sqrt(6 / (27 + 288)).
    let limit = (6.0 / Float(27 + 288)).squareRoot()
    let k = try XCTUnwrap(c.kernel).value
    XCTAssertTrue(k.scalars.allSatisfy { abs($0) <= limit })
    XCTAssertGreaterThan(k.max(), limit * 0.9)
    XCTAssertEqual(c.bias?.value.scalars, Array(repeating: 0, count: 32))
  }
}
