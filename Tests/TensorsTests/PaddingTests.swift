import Tensors
import XCTest

final class PaddingTests: XCTestCase {
  func testOutputSizeFormulas() {
    for n in 1...12 {
      for f in 1...5 {
        for s in 1...4 {
          let valid = Padding.valid.outputSize(input: n, window: f, stride: s)
          XCTAssertEqual(valid, f > n ? nil : (n - f) / s + 1)
          XCTAssertEqual(
            Padding.same.outputSize(input: n, window: f, stride: s), Int((Double(n) / Double(s)).rounded(.up)))
        }
      }
    }
  }

  func testSeed003FormulaDiffers() {
    // Seed 003 prints (n - f + 1) / s. For n = 6, f = 2, s = 3 that gives 5 / 3 = 1, but
    // windows start at 0 and 3 and both fit: floor((6 - 2) / 3) + 1 = 2.
    XCTAssertEqual(Padding.valid.outputSize(input: 6, window: 2, stride: 3), 2)
    XCTAssertEqual((6 - 2 + 1) / 3, 1)
  }

  func testSamePaddingSplitsLikeTensorFlow() {
    // n = 5, f = 3, s = 2: out 3, total pad (3-1)*2+3-5 = 2, one each side.
    XCTAssertEqual(Padding.same.padBefore(input: 5, window: 3, stride: 2), 1)
    // n = 6, f = 2, s = 2: total pad 0.
    XCTAssertEqual(Padding.same.padBefore(input: 6, window: 2, stride: 2), 0)
    // n = 7, f = 4, s = 1: total 3, 1 before and 2 after.
    XCTAssertEqual(Padding.same.padBefore(input: 7, window: 4, stride: 1), 1)
  }

  func testBadWindowsAreRejected() {
    XCTAssertNil(Padding.valid.outputSize(input: 3, window: 4, stride: 1))
    XCTAssertNil(Padding.same.outputSize(input: 3, window: 0, stride: 1))
    XCTAssertNil(Padding.same.outputSize(input: 3, window: 2, stride: 0))
    XCTAssertThrowsError(
      try WindowGeometry(batch: 1, height: 2, width: 2, channels: 1, window: (3, 3), strides: (1, 1), padding: .valid))
  }
}
