import Tensors
import XCTest

final class Im2colTests: XCTestCase {
  /// im2col + GEMM (the optimised path) agrees with the direct reference convolution, through
  /// the padded loop and the unpadded fast path (runs of under 8, 9, 8 to 16, and more floats).
  func testIm2colGEMMMatchesDirectConvolution() throws {
    for (padding, strides, window, channels) in [
      (Padding.valid, (1, 1), (3, 3), 3), (.same, (2, 2), (3, 3), 3), (.same, (1, 2), (2, 3), 3),
      (.valid, (2, 1), (1, 1), 3), (.valid, (1, 1), (2, 3), 8), (.valid, (2, 1), (3, 2), 4),
      (.valid, (1, 1), (1, 2), 5), (.same, (1, 1), (2, 2), 3),
    ] {
      let g = try WindowGeometry(
        batch: 2, height: 5, width: 7, channels: channels, window: window, strides: strides, padding: padding)
      let filters = 4
      var rng = SeededRandom(seed: 9)
      let x = (0..<(2 * 5 * 7 * channels)).map { _ in rng.uniform(-1, 1) }
      let kernel = (0..<(window.0 * window.1 * channels * filters)).map { _ in rng.uniform(-1, 1) }
      let rows = g.batch * g.outH * g.outW
      let k = window.0 * window.1 * channels
      var col = [Float](repeating: .nan, count: rows * k)
      col.withUnsafeMutableBufferPointer { im2col(x, g, $0.baseAddress!) }
      var fast = [Float](repeating: 0, count: rows * filters)
      fast.withUnsafeMutableBufferPointer {
        gemm(
          m: rows, n: filters, k: k, a: col, lda: k, transA: false, b: kernel, ldb: filters, transB: false,
          c: $0.baseAddress!, ldc: filters, accumulate: false)
      }
      var ref = [Float](repeating: 0, count: rows * filters)
      ref.withUnsafeMutableBufferPointer {
        convolutionReference(x, g, kernel: kernel, filters: filters, bias: nil, $0.baseAddress!)
      }
      for i in 0..<ref.count {
        XCTAssertEqual(fast[i], ref[i], accuracy: 1e-5, "\(padding) \(strides) \(window) \(channels)")
      }
    }
  }

  /// col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>.
  func testCol2imIsAdjoint() throws {
    let g = try WindowGeometry(
      batch: 1, height: 5, width: 6, channels: 2, window: (3, 3), strides: (2, 2), padding: .same)
    var rng = SeededRandom(seed: 1)
    let x = (0..<60).map { _ in rng.uniform(-1, 1) }
    let rows = g.outH * g.outW * 18
    let c = (0..<rows).map { _ in rng.uniform(-1, 1) }
    var col = [Float](repeating: 0, count: rows)
    col.withUnsafeMutableBufferPointer { im2col(x, g, $0.baseAddress!) }
    var back = [Float](repeating: 0, count: 60)
    back.withUnsafeMutableBufferPointer { col2im(c, g, $0.baseAddress!) }
    let lhs = zip(col, c).reduce(0.0) { $0 + Double($1.0 * $1.1) }
    let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0 * $1.1) }
    XCTAssertEqual(lhs, rhs, accuracy: 1e-4)
  }

  /// Without padding, col2im gives exactly the plain cell-by-cell scatter-add (same sums in
  /// the same order), with unit and larger strides and windows that leave a last column out.
  func testCol2imWithoutPaddingMatchesThePlainLoop() throws {
    for (h, w, c, window, strides) in [(7, 6, 3, (3, 3), (1, 1)), (8, 9, 2, (2, 3), (2, 2)), (5, 5, 8, (1, 1), (1, 1))]
    {
      let g = try WindowGeometry(
        batch: 2, height: h, width: w, channels: c, window: window, strides: strides, padding: .valid)
      var rng = SeededRandom(seed: 4)
      let rowLen = g.windowH * g.windowW * c
      let col = (0..<(2 * g.outH * g.outW * rowLen)).map { _ in rng.uniform(-1, 1) }
      let start = (0..<(2 * h * w * c)).map { _ in rng.uniform(-1, 1) }
      var fast = start
      fast.withUnsafeMutableBufferPointer { col2im(col, g, $0.baseAddress!) }
      var plain = start
      var i = 0
      for n in 0..<2 {
        for oy in 0..<g.outH {
          for ox in 0..<g.outW {
            for ky in 0..<g.windowH {
              for kx in 0..<g.windowW {
                for ch in 0..<c {
                  plain[((n * h + oy * g.strideH + ky) * w + ox * g.strideW + kx) * c + ch] += col[i]
                  i += 1
                }
              }
            }
          }
        }
      }
      XCTAssertEqual(fast, plain, "\(h)×\(w)×\(c) window \(window) strides \(strides)")
    }
  }

  /// Padded rows for 3×3 over RGB hold the 27 floats of the plain rows, then 5 zeros; other
  /// shapes keep rows of kh*kw*C.
  func testPaddedRowsForRGB3x3() throws {
    for (h, w) in [(32, 32), (5, 7), (3, 3)] {
      let g = try WindowGeometry(
        batch: 3, height: h, width: w, channels: 3, window: (3, 3), strides: (1, 1), padding: .valid)
      XCTAssertEqual(im2colRowLength(g), 32)
      var rng = SeededRandom(seed: 2)
      let x = (0..<(3 * h * w * 3)).map { _ in rng.uniform(-1, 1) }
      let rows = 2 * g.outH * g.outW
      var plain = [Float](repeating: .nan, count: rows * 27)
      var padded = [Float](repeating: .nan, count: rows * 32)
      plain.withUnsafeMutableBufferPointer { im2col(x, g, $0.baseAddress!, images: 1..<3) }
      padded.withUnsafeMutableBufferPointer { im2col(x, g, $0.baseAddress!, images: 1..<3, padded: true) }
      for r in 0..<rows {
        XCTAssertEqual(
          Array(padded[(r * 32)..<(r * 32 + 27)]), Array(plain[(r * 27)..<(r * 27 + 27)]), "\(h)×\(w) row \(r)")
        XCTAssertEqual(Array(padded[(r * 32 + 27)..<(r * 32 + 32)]), [0, 0, 0, 0, 0])
      }
    }
    for (channels, strides, padding) in [(4, (1, 1), Padding.valid), (3, (2, 2), .valid), (3, (1, 1), .same)] {
      let g = try WindowGeometry(
        batch: 1, height: 6, width: 6, channels: channels, window: (3, 3), strides: strides, padding: padding)
      XCTAssertEqual(im2colRowLength(g), 9 * channels)
    }
  }
}
