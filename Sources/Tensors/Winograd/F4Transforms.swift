// The four transforms of F(4×4, 3×3) written out, sixteen channels at a time: the same
// sums as `sandwich` with the tile's matrices (Transforms.swift), which is their reference,
// with the matrices' shared terms computed once: about a third of the operations.

/// Which of a tile's transforms: Bᵀ·B (input), Aᵀ·A (output) and their adjoints; `sizes` and
/// `matrix` are F(4×4, 3×3)'s.
package enum WinogradTransform: Sendable {
  /// V = Bᵀ d B: 6×6 → 6×6.
  case input
  /// Y = Aᵀ M A: 6×6 → 4×4.
  case output
  /// dM = A dY Aᵀ: 4×4 → 6×6.
  case outputAdjoint
  /// dd = B dV Bᵀ: 6×6 → 6×6.
  case inputAdjoint

  /// Inputs and outputs per side.
  var sizes: (in: Int, out: Int) {
    switch self {
    case .input, .inputAdjoint: return (6, 6)
    case .output: return (6, 4)
    case .outputAdjoint: return (4, 6)
    }
  }
}

private typealias V = SIMD16<Float>

/// The 1-D transform of `x` (sizes.in vectors) into `y` (sizes.out vectors).
@inline(__always)
private func oneDimension(_ t: WinogradTransform, _ x: UnsafePointer<V>, _ y: UnsafeMutablePointer<V>) {
  switch t {
  case .input:
    let (a, b) = (x[1] + x[2], x[4] - x[2])
    let (c, d) = (x[3] - x[1], x[4] - x[3])
    y[0] = 4 * x[0] - 5 * x[2] + x[4]
    y[1] = (x[3] + x[4]) - 4 * a
    y[2] = d + 4 * (x[1] - x[2])
    y[3] = b + 2 * c
    y[4] = b - 2 * c
    y[5] = 4 * x[1] - 5 * x[3] + x[5]
  case .output:
    let (p, q) = (x[1] + x[2], x[1] - x[2])
    let (r, s) = (x[3] + x[4], x[3] - x[4])
    y[0] = x[0] + p + r
    y[1] = q + 2 * s
    y[2] = p + 4 * r
    y[3] = q + 8 * s + x[5]
  case .outputAdjoint:
    let (p, q) = (x[0] + x[2], x[1] + x[3])
    let (r, s) = (x[0] + 4 * x[2], 2 * x[1] + 8 * x[3])
    y[0] = x[0]
    y[1] = p + q
    y[2] = p - q
    y[3] = r + s
    y[4] = r - s
    y[5] = x[3]
  case .inputAdjoint:
    let (p, q) = (x[1] + x[2], x[3] + x[4])
    let (r, s) = (x[2] - x[1], x[4] - x[3])
    y[0] = 4 * x[0]
    y[1] = 4 * r + 2 * s + 4 * x[5]
    y[2] = -5 * x[0] - 4 * p - q
    y[3] = -r - 2 * s - 5 * x[5]
    y[4] = x[0] + p + q
    y[5] = x[5]
  }
}

/// `sandwich(matrix, ...)` for F(4×4, 3×3)'s transform `t`: the same grid addressing and
/// `accumulate`; channels past the last whole sixteen go to `sandwichReference`.
package func f4Transform(
  _ t: WinogradTransform, _ input: UnsafePointer<Float>, inRow: Int, inColumn: Int,
  _ output: UnsafeMutablePointer<Float>, outRow: Int, outColumn: Int, length: Int, accumulate: Bool = false
) {
  let (n, m) = t.sizes
  withUnsafeTemporaryAllocation(of: V.self, capacity: 6 * 6 + 12) { buffer in
    let middle = buffer.baseAddress!  // m × n: middle[r][j], transform of column j
    let x = middle + 36
    let y = x + 6
    var c = 0
    while c + 16 <= length {
      for j in 0..<n {
        let src = UnsafeRawPointer(input + j * inColumn + c)
        for i in 0..<n { x[i] = src.loadUnaligned(fromByteOffset: i * inRow * 4, as: V.self) }
        oneDimension(t, x, y)
        for r in 0..<m { middle[r * n + j] = y[r] }
      }
      for r in 0..<m {
        oneDimension(t, UnsafePointer(middle + r * n), y)
        let dst = UnsafeMutableRawPointer(output + r * outRow + c)
        for s in 0..<m {
          var v = y[s]
          if accumulate { v += dst.loadUnaligned(fromByteOffset: s * outColumn * 4, as: V.self) }
          dst.storeBytes(of: v, toByteOffset: s * outColumn * 4, as: V.self)
        }
      }
      c += 16
    }
    if c < length {
      sandwichReference(
        t.matrix, input + c, inRow: inRow, inColumn: inColumn, output + c, outRow: outRow, outColumn: outColumn,
        length: length - c, accumulate: accumulate)
    }
  }
}

extension WinogradTransform {
  /// The matrix whose sandwich this transform is.
  package var matrix: SmallMatrix { f4Matrices[self]! }
}

private let f4Matrices: [WinogradTransform: SmallMatrix] = [
  .input: WinogradTile.f4.inputMatrix, .output: WinogradTile.f4.outputMatrix,
  .outputAdjoint: WinogradTile.f4.outputMatrix.transposed, .inputAdjoint: WinogradTile.f4.inputMatrix.transposed,
]
