import Tensors
import XCTest

final class ElementwiseTests: XCTestCase {
  /// sumRows adds each column top to bottom from 0, exactly as the plain loop does, for widths
  /// that use the 32-wide, 8-wide and scalar parts.
  func testSumRowsMatchesThePlainLoop() {
    var rng = SeededRandom(seed: 5)
    for rows in [0, 1, 7] {
      for n in [0, 5, 8, 37, 64, 100] {
        let x = (0..<(rows * n)).map { _ in rng.uniform(-1, 1) }
        var out = [Float](repeating: .nan, count: n)
        out.withUnsafeMutableBufferPointer { sumRows(x, rows: rows, n: n, into: $0.baseAddress!) }
        var expected = [Float](repeating: 0, count: n)
        for r in 0..<rows { for j in 0..<n { expected[j] += x[r * n + j] } }
        XCTAssertEqual(out, expected, "rows \(rows) n \(n)")
      }
    }
  }

  /// sumRowsInParallel gives each column exactly the sum sumRows gives, on 1 and 2 threads,
  /// for widths that end in a partial piece and in the 8-wide and scalar parts.
  func testSumRowsInParallelMatchesSumRows() {
    var rng = SeededRandom(seed: 9)
    let saved = Threads.count
    defer { Threads.count = saved }
    for n in [3, 2048, 5000, 2048 * 3 + 37] {
      let rows = 16
      let x = (0..<(rows * n)).map { _ in rng.uniform(-1, 1) }
      var expected = [Float](repeating: .nan, count: n)
      expected.withUnsafeMutableBufferPointer { sumRows(x, rows: rows, n: n, into: $0.baseAddress!) }
      for threads in [1, 2] {
        Threads.count = threads
        var out = [Float](repeating: .nan, count: n)
        out.withUnsafeMutableBufferPointer { sumRowsInParallel(x, rows: rows, n: n, into: $0.baseAddress!) }
        XCTAssertEqual(out, expected, "n \(n), \(threads) threads")
      }
    }
  }

  /// sumRows with a row stride sums the first n columns of each row only.
  func testSumRowsWithARowStride() {
    let x: [Float] = [1, 2, 100, 3, 4, 100, 5, 6, 100]
    var out = [Float](repeating: .nan, count: 2)
    out.withUnsafeMutableBufferPointer { sumRows(x, rows: 3, n: 2, ldx: 3, into: $0.baseAddress!) }
    XCTAssertEqual(out, [9, 12])
  }

  /// copyFloats copies runs of every length exactly, touching nothing past the run.
  func testCopyFloatsCopiesExactlyTheRun() {
    for n in 0...20 {
      let src = (0..<n).map { Float($0) + 0.5 }
      var dst = [Float](repeating: -1, count: n + 3)
      dst.withUnsafeMutableBufferPointer { copyFloats($0.baseAddress!, src, n) }
      XCTAssertEqual(Array(dst[0..<n]), src)
      XCTAssertEqual(Array(dst[n...]), [-1, -1, -1], "length \(n)")
    }
  }
}
