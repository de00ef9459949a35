import Autograd
import Layers
import Tensors
import XCTest

final class PoolingTests: XCTestCase {
  func testMaxPoolGradientsPoolNotDividingInput() throws {
    try checkLayerGradients(MaxPooling2D(poolSize: (2, 2)), inputShape: [2, 5, 7, 3])
  }

  /// Eight channels: the SIMD 2×2 path, which keeps no indices.
  func testMaxPoolGradientsSIMDPath() throws {
    try checkLayerGradients(MaxPooling2D(poolSize: (2, 2)), inputShape: [2, 5, 3, 8], seed: 6)
  }

  func testMaxPoolGradientsSameStride2() throws {
    try checkLayerGradients(
      MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same), inputShape: [2, 5, 7, 3], seed: 2)
  }

  func testAveragePoolGradientsValid() throws {
    try checkLayerGradients(AveragePooling2D(poolSize: (2, 3)), inputShape: [2, 5, 7, 3])
  }

  func testAveragePoolGradientsSame() throws {
    try checkLayerGradients(
      AveragePooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same), inputShape: [1, 5, 7, 3], seed: 3)
  }

  func testGlobalPoolGradients() throws {
    try checkLayerGradients(GlobalMaxPooling2D(), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(GlobalAveragePooling2D(), inputShape: [2, 5, 7, 3])
  }

  func testStridesDefaultToPoolSize() {
    XCTAssertTrue(MaxPooling2D(poolSize: (3, 2)).strides == (3, 2))
    XCTAssertTrue(AveragePooling2D().strides == (2, 2))
  }

  func testSamePaddingAverageCountsOnlyRealCells() throws {
    // 3x3 input of ones and 2x2 windows with same padding: the edge windows hold padding,
    // yet their average is still 1 (padding is not counted).
    let x = Variable(Tensor(shape: [1, 3, 3, 1], repeating: 1))
    let y = try AveragePooling2D(padding: .same)(x)
    XCTAssertEqual(y.shape, [1, 2, 2, 1])
    XCTAssertEqual(y.value.scalars, [1, 1, 1, 1])
  }

  func testSamePaddingMaxIgnoresPadding() throws {
    let x = Variable(Tensor(shape: [1, 3, 3, 1], repeating: -5))
    let y = try MaxPooling2D(padding: .same)(x)
    XCTAssertEqual(y.value.scalars, [-5, -5, -5, -5])
  }

  func testOutputSizesValidVersusSame() throws {
    // n = 7, f = 3, s = 2: valid gives floor(4/2)+1 = 3, same gives ceil(7/2) = 4.
    XCTAssertEqual(try MaxPooling2D(poolSize: (3, 3), strides: (2, 2)).outputShape(for: [7, 7, 1]), [3, 3, 1])
    XCTAssertEqual(
      try MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same).outputShape(for: [7, 7, 1]), [4, 4, 1])
    // Seed 003's (n - f + 1) / s: n = 6, f = 2, s = 3 would give 5 / 3 = 1, but the windows
    // at 0 and 3 both fit: floor((6 - 2) / 3) + 1 = 2.
    XCTAssertEqual(try MaxPooling2D(poolSize: (2, 2), strides: (3, 3)).outputShape(for: [6, 6, 1]), [2, 2, 1])
    XCTAssertNotEqual((6 - 2 + 1) / 3, 2)
    XCTAssertThrowsError(try MaxPooling2D(poolSize: (4, 4)).outputShape(for: [3, 8, 1])) { e in
      XCTAssertTrue("\(e)".contains("larger than its input 3x8"), "\(e)")
    }
    XCTAssertThrowsError(try AveragePooling2D(poolSize: (0, 2)).outputShape(for: [3, 8, 1]))
  }

  func testForwardShapesMatchOutputShape() throws {
    for padding in Padding.allCases {
      for (pool, stride) in [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 3), (1, 2))] {
        let layer = MaxPooling2D(poolSize: pool, strides: stride, padding: padding)
        let y = try layer(Variable(Tensor(zeros: [1, 7, 6, 2])))
        XCTAssertEqual(Array(y.shape.dropFirst()), try layer.outputShape(for: [7, 6, 2]))
      }
    }
  }
}

/// The SIMD 2×2 max-pooling kernels agree with the reference loops, ties included.
final class PoolingKernelTests: XCTestCase {
  func testFastMaxPoolMatchesReference() throws {
    for (h, w, c) in [(4, 6, 8), (5, 7, 16), (2, 2, 32), (13, 13, 8)] {
      let g = try WindowGeometry(
        batch: 2, height: h, width: w, channels: c, window: (2, 2), strides: (2, 2), padding: .valid)
      XCTAssertTrue(isTiled2x2(g))
      let x = randomTensor([2, h, w, c], seed: UInt64(h * w))
      for i in stride(from: 0, to: x.count, by: 3) { x[i] = 0.25 }  // ties
      x[c + 1] = -0.0  // a signed zero beside a positive zero
      x[1] = 0
      let n = 2 * g.outH * g.outW * c
      let (yFast, yRef) = (Tensor(zeros: [n]), Tensor(zeros: [n]))
      var argmax = [Int32](repeating: 0, count: n)
      let cells = Tensor(zeros: [n])
      maxPool2x2Forward(x.data, g, yFast.data, cell: cells.data)
      argmax.withUnsafeMutableBufferPointer { maxPoolForwardReference(x.data, g, yRef.data, $0.baseAddress!) }
      XCTAssertEqual(yFast.scalars, yRef.scalars, "forward \(h)x\(w)x\(c)")

      // Backward: every cell of dx written (odd edges included), dy at the same cell.
      let dy = randomTensor([n], seed: 9)
      let (dxFast, dxRef) = (Tensor(shape: x.shape, repeating: 7), Tensor(shape: x.shape, repeating: -7))
      maxPool2x2Backward(cell: cells.data, dy.data, g, dxFast.data)
      argmax.withUnsafeBufferPointer { maxPoolBackwardReference(dy.data, $0.baseAddress!, g, dxRef.data) }
      XCTAssertEqual(dxFast.scalars, dxRef.scalars, "backward \(h)x\(w)x\(c)")
    }
  }
}
