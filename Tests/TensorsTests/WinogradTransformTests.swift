import Tensors
import XCTest

final class WinogradTransformTests: XCTestCase {
  /// In one dimension each tile's matrices compute a correlation with a 3-tap filter:
  /// Aᵀ [(G g) ⊙ (Bᵀ d)] = y with y[p] = Σᵢ g[i] d[p + i], for every p < m.
  func testMatricesComputeTheCorrelation() {
    var rng = SeededRandom(seed: 2)
    for tile in WinogradTile.allCases {
      let (m, a) = (tile.m, tile.alpha)
      let (bT, g, aT) = (tile.inputMatrix.values, tile.filterMatrix.values, tile.outputMatrix.values)
      XCTAssertEqual([bT.count, g.count, aT.count], [a * a, a * 3, m * a])
      for _ in 0..<20 {
        let d = (0..<a).map { _ in Double(rng.uniform(-1, 1)) }
        let f = (0..<3).map { _ in Double(rng.uniform(-1, 1)) }
        let gf = (0..<a).map { r in (0..<3).reduce(0.0) { $0 + Double(g[r * 3 + $1]) * f[$1] } }
        let bd = (0..<a).map { r in (0..<a).reduce(0.0) { $0 + Double(bT[r * a + $1]) * d[$1] } }
        for p in 0..<m {
          let winograd = (0..<a).reduce(0.0) { $0 + Double(aT[p * a + $1]) * gf[$1] * bd[$1] }
          let direct = (0..<3).reduce(0.0) { $0 + f[$1] * d[p + $1] }
          XCTAssertEqual(winograd, direct, accuracy: 1e-6, "\(tile) output \(p)")
        }
      }
    }
  }

  /// `sandwich` and its reference compute L X Lᵀ of a grid of vectors by its definition, for
  /// square and rectangular L, strided grids, vectors shorter than, equal to and longer than
  /// sixteen floats, written or added.
  func testSandwichMatchesItsDefinition() {
    var rng = SeededRandom(seed: 3)
    for (rows, cols) in [(4, 4), (2, 4), (6, 3), (3, 6)] {
      // Zeros and ±1 among the coefficients.
      let values = (0..<(rows * cols)).map { i -> Float in i % 5 == 0 ? 0 : i % 7 == 0 ? -1 : rng.uniform(-2, 2) }
      let l = SmallMatrix(values, rows: rows, cols: cols)
      for length in [5, 16, 37] {
        let (inRow, inColumn) = (cols * (length + 1) + 3, length + 1)
        let input = (0..<(cols * inRow)).map { _ in rng.uniform(-1, 1) }
        let (outRow, outColumn) = (rows * length * 2, length * 2)
        let start = (0..<(rows * outRow)).map { _ in rng.uniform(-1, 1) }
        for accumulate in [false, true] {
          for fast in [true, false] {
            var output = start
            input.withUnsafeBufferPointer { x in
              output.withUnsafeMutableBufferPointer { y in
                (fast ? sandwich : sandwichReference)(
                  l, x.baseAddress!, inRow, inColumn, y.baseAddress!, outRow, outColumn, length, accumulate)
              }
            }
            for r in 0..<rows {
              for s in 0..<rows {
                for c in 0..<length {
                  let at = r * outRow + s * outColumn + c
                  var expected = accumulate ? Double(start[at]) : 0
                  for i in 0..<cols {
                    for j in 0..<cols {
                      expected +=
                        Double(values[r * cols + i] * values[s * cols + j])
                        * Double(input[i * inRow + j * inColumn + c])
                    }
                  }
                  XCTAssertEqual(
                    Double(output[at]), expected, accuracy: 1e-4, "\(rows)×\(cols), \(length), fast \(fast)")
                }
              }
            }
          }
        }
      }
    }
  }

  /// F(4×4)'s written-out transforms give their matrices' sandwiches (the reference), over
  /// whole vectors and a tail, written and added.
  func testWrittenOutTransformsMatchTheirMatrices() {
    var rng = SeededRandom(seed: 4)
    for t in [WinogradTransform.input, .output, .outputAdjoint, .inputAdjoint] {
      let (n, m) = (t.matrix.cols, t.matrix.rows)
      for length in [16, 37] {
        let input = (0..<(n * n * length)).map { _ in rng.uniform(-1, 1) }
        let start = (0..<(m * m * length)).map { _ in rng.uniform(-1, 1) }
        for accumulate in [false, true] {
          var (fast, reference) = (start, start)
          input.withUnsafeBufferPointer { x in
            f4Transform(
              t, x.baseAddress!, inRow: n * length, inColumn: length, &fast, outRow: m * length, outColumn: length,
              length: length, accumulate: accumulate)
            sandwichReference(
              t.matrix, x.baseAddress!, inRow: n * length, inColumn: length, &reference, outRow: m * length,
              outColumn: length, length: length, accumulate: accumulate)
          }
          for i in 0..<fast.count { XCTAssertEqual(fast[i], reference[i], accuracy: 2e-4, "\(t) \(length) \(i)") }
        }
      }
    }
  }

  /// The transpose of a rectangular matrix, with its nonzeros.
  func testTransposed() {
    let t = SmallMatrix([1, 0, 3, 4, 5, 6], rows: 2, cols: 3).transposed
    XCTAssertEqual([t.rows, t.cols], [3, 2])
    XCTAssertEqual(t.values, [1, 4, 0, 5, 3, 6])
  }
}
