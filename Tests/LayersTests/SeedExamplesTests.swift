import Autograd
import Layers
import Tensors
import XCTest

/// The worked examples of the tutorials the project grew from, reproduced exactly.
final class SeedExamplesTests: XCTestCase {
  /// 8x8 image with a two-pixel vertical line in columns 3 and 4, batch 1, one channel.
  func lineImage() throws -> Variable {
    var v: [Float] = []
    for _ in 0..<8 { v += [0, 0, 0, 1, 1, 0, 0, 0] }
    return Variable(try Tensor(shape: [1, 8, 8, 1], values: v))
  }

  /// Conv2D(1, (3, 3), relu) whose kernel's middle column is 1, bias 0.
  func detector() throws -> Conv2D {
    let conv = Conv2D(filters: 1, kernelSize: (3, 3), activation: .relu)
    var rng = SeededRandom(seed: 0)
    try conv.build(inputShape: [8, 8, 1], rng: &rng)
    try conv.setWeights([
      Tensor(shape: [3, 3, 1, 1], values: [0, 1, 0, 0, 1, 0, 0, 1, 0]), Tensor(zeros: [1]),
    ])
    return conv
  }

  func rows(_ t: Tensor, width: Int) -> [[Float]] {
    stride(from: 0, to: t.count, by: width).map { Array(t.scalars[$0..<($0 + width)]) }
  }

  func testVerticalLineDetector() throws {
    let y = try detector()(try lineImage())
    XCTAssertEqual(y.shape, [1, 6, 6, 1])
    XCTAssertEqual(rows(y.value, width: 6), Array(repeating: [0, 0, 3, 3, 0, 0], count: 6))
  }

  func testPoolingTheDetectorMap() throws {
    let map = try detector()(try lineImage())
    let avg = try AveragePooling2D()(map)
    XCTAssertEqual(avg.shape, [1, 3, 3, 1])
    XCTAssertEqual(rows(avg.value, width: 3), Array(repeating: [0, 3, 0], count: 3))
    let max = try MaxPooling2D()(map)
    XCTAssertEqual(rows(max.value, width: 3), Array(repeating: [0, 3, 0], count: 3))
    let global = try GlobalMaxPooling2D()(map)
    XCTAssertEqual(global.shape, [1, 1])
    XCTAssertEqual(global.value.scalars, [3])
  }

  func testFourByFourTables() throws {
    let x = Variable(
      try Tensor(shape: [1, 4, 4, 1], values: [1, 3, 2, 9, 5, 6, 1, 7, 4, 2, 8, 6, 3, 5, 7, 2]))
    XCTAssertEqual(try MaxPooling2D(poolSize: (2, 2), strides: (2, 2))(x).value.scalars, [6, 9, 5, 8])
    XCTAssertEqual(try AveragePooling2D(poolSize: (2, 2), strides: (2, 2))(x).value.scalars, [3.75, 4.75, 3.5, 5.75])
    XCTAssertEqual(try GlobalMaxPooling2D()(x).value.scalars, [9])
    XCTAssertEqual(try GlobalAveragePooling2D()(x).value.scalars, [4.4375])
  }
}
