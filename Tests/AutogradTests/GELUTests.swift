import Autograd
import Foundation
import Tensors
import XCTest

/// GELU's lane kernel against its plain twin (the C library's erf and exp).
final class GELUTests: XCTestCase {
  func testLanesAgreeWithTheReference() throws {
    // Every 1/1000 from −12 to 12, odd counts included (a last piece shorter than 8 lanes).
    let values = (-12_000...12_000).map { Float($0) / 1000 } + [-100, 100, 0, -0.0, 87, -87]
    let x = Variable(try Tensor(shape: [values.count], values: values), requiresGrad: true)
    let tape = Tape()
    let onTape = tape.input(x.value, requiresGrad: true)
    let y = gelu(onTape)
    try tape.backward(sum(y))
    let dx = try XCTUnwrap(onTape.grad)
    var worstY: Float = 0
    var worstD: Float = 0
    for (i, v) in values.enumerated() {
      let (ry, rd) = geluReference(v)
      worstY = max(worstY, abs(y.value[i] - ry) / max(1, abs(v)))
      worstD = max(worstD, abs(dx[i] - rd))
    }
    // |Φ error| ≤ 1.5e-7 plus rounding: y = x·Φ within 3e-7·max(1, |x|), y' within 5e-7.
    XCTAssertLessThan(worstY, 3e-7)
    XCTAssertLessThan(worstD, 5e-7)
    XCTAssertEqual(y.value[values.count - 6], -0.0, "gelu(−100) underflows to zero")
    XCTAssertEqual(y.value[values.count - 5], 100, "gelu(100) = 100")
  }
}
