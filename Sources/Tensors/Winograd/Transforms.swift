// Winograd's minimal filtering F(m×m, 3×3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): an m×m block of a 3×3 correlation, from an α×α input
// tile d (α = m + 2) and the filter g, is
//
//     Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//
// so that, summed over input channels, the α² products become α² matrix products of
// [tiles × in] by [in × out]: α² / (9m²) of the direct convolution's multiplies (0.44 for F(2×2),
// 0.25 for F(4×4)). Every transform is a "sandwich" L X Lᵀ of a small matrix L around an α×α
// (or 3×3, m×m) grid of channel vectors; the backward pass uses the same sandwiches with the
// transposed matrices (each transform is linear, so its gradient is its adjoint).

/// A Winograd tile: the output block m×m and the transform matrices for a 3×3 filter.
package enum WinogradTile: String, CaseIterable, Sendable {
  /// F(2×2, 3×3): 4×4 input tiles, 16 products per 4 outputs.
  case f2 = "F(2x2,3x3)"
  /// F(4×4, 3×3): 6×6 input tiles, 36 products per 16 outputs.
  case f4 = "F(4x4,3x3)"

  /// Outputs per tile side.
  package var m: Int { self == .f2 ? 2 : 4 }
  /// Inputs per tile side.
  package var alpha: Int { m + 2 }

  /// Bᵀ [α × α], the input transform.
  package var inputMatrix: [Float] {
    switch self {
    case .f2:
      return [
        1, 0, -1, 0,
        0, 1, 1, 0,
        0, -1, 1, 0,
        0, 1, 0, -1,
      ]
    case .f4:
      return [
        4, 0, -5, 0, 1, 0,
        0, -4, -4, 1, 1, 0,
        0, 4, -4, -1, 1, 0,
        0, -2, -1, 2, 1, 0,
        0, 2, -1, -2, 1, 0,
        0, 4, 0, -5, 0, 1,
      ]
    }
  }

  /// G [α × 3], the filter transform.
  package var filterMatrix: [Float] {
    switch self {
    case .f2:
      return [
        1, 0, 0,
        0.5, 0.5, 0.5,
        0.5, -0.5, 0.5,
        0, 0, 1,
      ]
    case .f4:
      return [
        1.0 / 4, 0, 0,
        -1.0 / 6, -1.0 / 6, -1.0 / 6,
        -1.0 / 6, 1.0 / 6, -1.0 / 6,
        1.0 / 24, 1.0 / 12, 1.0 / 6,
        1.0 / 24, -1.0 / 12, 1.0 / 6,
        0, 0, 1,
      ]
    }
  }

  /// Aᵀ [m × α], the output transform.
  package var outputMatrix: [Float] {
    switch self {
    case .f2:
      return [
        1, 1, 1, 0,
        0, 1, -1, -1,
      ]
    case .f4:
      return [
        1, 1, 1, 1, 1, 0,
        0, 1, -1, 2, -2, 0,
        0, 1, 1, 4, 4, 0,
        0, 1, -1, 8, -8, 1,
      ]
    }
  }
}

/// The transpose of a row-major `rows × cols` matrix.
package func transposed(_ l: [Float], rows: Int, cols: Int) -> [Float] {
  (0..<(rows * cols)).map { l[($0 % rows) * cols + $0 / rows] }
}

/// out[r][s] = Σᵢ Σⱼ L[r][i] · L[s][j] · in[i][j], for the row-major `rows × cols` matrix L and a
/// `cols × cols` grid of vectors of `length` floats: grid element (i, j) at
/// `input + i * inRow + j * inColumn`, result (r, s) at `output + r * outRow + s * outColumn`.
/// `middle` holds `rows × cols × length` floats. Zero coefficients are skipped, so a sandwich
/// costs about (nonzeros of L) × (rows + cols) passes over `length` floats.
package func sandwich(
  _ l: [Float], rows: Int, cols: Int,
  _ input: UnsafePointer<Float>, inRow: Int, inColumn: Int,
  _ output: UnsafeMutablePointer<Float>, outRow: Int, outColumn: Int,
  length: Int, middle: UnsafeMutablePointer<Float>
) {
  l.withUnsafeBufferPointer { l in
    // middle[r][j] = Σᵢ L[r][i] in[i][j]
    for r in 0..<rows {
      for j in 0..<cols {
        combine(
          l.baseAddress! + r * cols, stride: 1, count: cols, input + j * inColumn, step: inRow,
          into: middle + (r * cols + j) * length, length: length)
      }
    }
    // out[r][s] = Σⱼ L[s][j] middle[r][j]
    for r in 0..<rows {
      for s in 0..<rows {
        combine(
          l.baseAddress! + s * cols, stride: 1, count: cols, middle + r * cols * length, step: length,
          into: output + r * outRow + s * outColumn, length: length)
      }
    }
  }
}

/// dst = Σₜ coefficient[t] · src[t] over `length` floats, where coefficient t is at
/// `coefficients + t * stride` and vector t at `source + t * step`.
@inline(__always)
private func combine(
  _ coefficients: UnsafePointer<Float>, stride: Int, count: Int, _ source: UnsafePointer<Float>, step: Int,
  into dst: UnsafeMutablePointer<Float>, length: Int
) {
  var first = true
  for t in 0..<count {
    let a = coefficients[t * stride]
    if a == 0 { continue }
    let src = source + t * step
    if first {
      if a == 1 {
        dst.update(from: src, count: length)
      } else {
        for c in 0..<length { dst[c] = a * src[c] }
      }
      first = false
    } else if a == 1 {
      for c in 0..<length { dst[c] += src[c] }
    } else if a == -1 {
      for c in 0..<length { dst[c] -= src[c] }
    } else {
      for c in 0..<length { dst[c] += a * src[c] }
    }
  }
  if first { dst.update(repeating: 0, count: length) }
}
