// The four transforms of F(4×4, 3×3) written out, eight channels at a time: the same
// sums as `sandwich` with the tile's matrices (Transforms.swift), which is their reference,
// with the matrices' shared terms computed once: about a third of the operations.

/// Which of a tile's transforms: Bᵀ·B (input), Aᵀ·A (output) and their adjoints; `matrix` is
/// F(4×4, 3×3)'s.
package enum WinogradTransform: Sendable {
  /// V = Bᵀ d B: 6×6 → 6×6.
  case input
  /// Y = Aᵀ M A: 6×6 → 4×4.
  case output
  /// dM = A dY Aᵀ: 4×4 → 6×6.
  case outputAdjoint
  /// dd = B dV Bᵀ: 6×6 → 6×6.
  case inputAdjoint
}

/// Eight channels: one AVX2 register, so that a 1-D transform's inputs, outputs and shared
/// terms stay in the sixteen YMM registers (sixteen channels, two registers each, spilled).
private typealias V = SIMD8<Float>
private let lanes = 8

/// Six vectors of a tile's row or column (four used by the 4-point side of the output
/// transform and its adjoint).
private struct Six {
  var v0 = V(), v1 = V(), v2 = V(), v3 = V(), v4 = V(), v5 = V()

  /// `count` vectors from `p`, `stride` bytes apart.
  @inline(__always) init(_ p: UnsafeRawPointer, stride: Int, count: Int) {
    v0 = p.loadUnaligned(as: V.self)
    v1 = p.loadUnaligned(fromByteOffset: stride, as: V.self)
    v2 = p.loadUnaligned(fromByteOffset: 2 * stride, as: V.self)
    v3 = p.loadUnaligned(fromByteOffset: 3 * stride, as: V.self)
    if count > 4 {
      v4 = p.loadUnaligned(fromByteOffset: 4 * stride, as: V.self)
      v5 = p.loadUnaligned(fromByteOffset: 5 * stride, as: V.self)
    }
  }

  @inline(__always) init(_ v0: V, _ v1: V, _ v2: V, _ v3: V, _ v4: V = V(), _ v5: V = V()) {
    (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5) = (v0, v1, v2, v3, v4, v5)
  }

  /// Writes (or adds) the first `count` vectors at `p`, `stride` bytes apart.
  @inline(__always) func store(_ p: UnsafeMutableRawPointer, stride: Int, count: Int, accumulate: Bool) {
    @inline(__always) func put(_ v: V, _ i: Int) {
      let at = i * stride
      p.storeBytes(
        of: accumulate ? v + p.loadUnaligned(fromByteOffset: at, as: V.self) : v, toByteOffset: at, as: V.self)
    }
    put(v0, 0)
    put(v1, 1)
    put(v2, 2)
    put(v3, 3)
    if count > 4 {
      put(v4, 4)
      put(v5, 5)
    }
  }
}

/// The 1-D transforms: `Six` in, `Six` out.
@inline(__always) private func inputRows(_ x: Six) -> Six {
  let (a, b) = (x.v1 + x.v2, x.v4 - x.v2)
  let (c, d) = (x.v3 - x.v1, x.v4 - x.v3)
  return Six(
    4 * x.v0 - 5 * x.v2 + x.v4, (x.v3 + x.v4) - 4 * a, d + 4 * (x.v1 - x.v2), b + 2 * c, b - 2 * c,
    4 * x.v1 - 5 * x.v3 + x.v5)
}

@inline(__always) private func outputRows(_ x: Six) -> Six {
  let (p, q) = (x.v1 + x.v2, x.v1 - x.v2)
  let (r, s) = (x.v3 + x.v4, x.v3 - x.v4)
  return Six(x.v0 + p + r, q + 2 * s, p + 4 * r, q + 8 * s + x.v5)
}

@inline(__always) private func outputAdjointRows(_ x: Six) -> Six {
  let (p, q) = (x.v0 + x.v2, x.v1 + x.v3)
  let (r, s) = (x.v0 + 4 * x.v2, 2 * x.v1 + 8 * x.v3)
  return Six(x.v0, p + q, p - q, r + s, r - s, x.v3)
}

@inline(__always) private func inputAdjointRows(_ x: Six) -> Six {
  let (p, q) = (x.v1 + x.v2, x.v3 + x.v4)
  let (r, s) = (x.v2 - x.v1, x.v4 - x.v3)
  return Six(4 * x.v0, 4 * r + 2 * s + 4 * x.v5, -5 * x.v0 - 4 * p - q, -r - 2 * s - 5 * x.v5, x.v0 + p + q, x.v5)
}

/// `sandwich(matrix, ...)` for F(4×4, 3×3)'s transform `t`: the same grid addressing and
/// `accumulate`; channels past the last whole vector go to `sandwichReference`.
package func f4Transform(
  _ t: WinogradTransform, _ input: UnsafePointer<Float>, inRow: Int, inColumn: Int,
  _ output: UnsafeMutablePointer<Float>, outRow: Int, outColumn: Int, length: Int, accumulate: Bool = false
) {
  let whole = length - length % lanes
  let grid = (input, inRow, inColumn, output, outRow, outColumn, whole, accumulate)
  switch t {
  case .input: f4Vectors(6, 6, grid, inputRows)
  case .output: f4Vectors(6, 4, grid, outputRows)
  case .outputAdjoint: f4Vectors(4, 6, grid, outputAdjointRows)
  case .inputAdjoint: f4Vectors(6, 6, grid, inputAdjointRows)
  }
  if whole < length {
    sandwichReference(
      t.matrix, input + whole, inRow: inRow, inColumn: inColumn, output + whole, outRow: outRow,
      outColumn: outColumn, length: length - whole, accumulate: accumulate)
  }
}

/// The sandwich of the 1-D transform `rows` (n vectors in, m out) over the first `length`
/// channels (whole vectors) of the grid: columns into a stack buffer, then its rows out.
@inline(__always) private func f4Vectors(
  _ n: Int, _ m: Int,
  _ grid: (UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>, Int, Int, Int, Bool),
  _ rows: (Six) -> Six
) {
  let (input, inRow, inColumn, output, outRow, outColumn, length, accumulate) = grid
  withUnsafeTemporaryAllocation(of: V.self, capacity: 36) { buffer in
    let middle = UnsafeMutableRawPointer(buffer.baseAddress!)  // m × n: [r][j], transform of column j
    let vector = MemoryLayout<V>.stride
    var c = 0
    while c < length {
      for j in 0..<n {
        let y = rows(Six(UnsafeRawPointer(input + j * inColumn + c), stride: inRow * 4, count: n))
        y.store(middle + j * vector, stride: n * vector, count: m, accumulate: false)
      }
      for r in 0..<m {
        let y = rows(Six(UnsafeRawPointer(middle + r * n * vector), stride: vector, count: n))
        y.store(
          UnsafeMutableRawPointer(output + r * outRow + c), stride: outColumn * 4, count: m, accumulate: accumulate)
      }
      c += lanes
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
