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
  package var inputMatrix: SmallMatrix { SmallMatrix(inputValues, rows: alpha, cols: alpha) }
  /// G [α × 3], the filter transform.
  package var filterMatrix: SmallMatrix { SmallMatrix(filterValues, rows: alpha, cols: 3) }
  /// Aᵀ [m × α], the output transform.
  package var outputMatrix: SmallMatrix { SmallMatrix(outputValues, rows: m, cols: alpha) }

  private var inputValues: [Float] {
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

  private var filterValues: [Float] {
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

  private var outputValues: [Float] {
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

/// A small row-major matrix with its nonzero entries listed row by row, for `sandwich`.
package struct SmallMatrix: Sendable {
  package let rows: Int, cols: Int
  package let values: [Float]
  /// Row r's nonzeros are entries starts[r]..<starts[r + 1] of `columns` and `coefficients`.
  let starts: [Int], columns: [Int], coefficients: [Float]

  package init(_ values: [Float], rows: Int, cols: Int) {
    precondition(values.count == rows * cols, "a \(rows)×\(cols) matrix needs \(rows * cols) values")
    (self.rows, self.cols, self.values) = (rows, cols, values)
    var (starts, columns, coefficients) = ([0], [Int](), [Float]())
    for r in 0..<rows {
      for j in 0..<cols where values[r * cols + j] != 0 {
        columns.append(j)
        coefficients.append(values[r * cols + j])
      }
      starts.append(columns.count)
    }
    (self.starts, self.columns, self.coefficients) = (starts, columns, coefficients)
  }

  package var transposed: SmallMatrix {
    SmallMatrix((0..<(rows * cols)).map { values[($0 % rows) * cols + $0 / rows] }, rows: cols, cols: rows)
  }
}

/// out[r][s] (+)= Σᵢ Σⱼ L[r][i] · L[s][j] · in[i][j], for the `rows × cols` matrix L and a
/// `cols × cols` grid of vectors of `length` floats: grid element (i, j) at
/// `input + i * inRow + j * inColumn`, result (r, s) at `output + r * outRow + s * outColumn`,
/// added to what is there when `accumulate`. Eight channels at a time, the grid's middle
/// product L·in held on the stack, only L's nonzeros multiplied.
package func sandwich(
  _ l: SmallMatrix, _ input: UnsafePointer<Float>, inRow: Int, inColumn: Int,
  _ output: UnsafeMutablePointer<Float>, outRow: Int, outColumn: Int, length: Int, accumulate: Bool = false
) {
  typealias V = SIMD8<Float>
  let (rows, cols) = (l.rows, l.cols)
  l.starts.withUnsafeBufferPointer { starts in
    l.columns.withUnsafeBufferPointer { columns in
      l.coefficients.withUnsafeBufferPointer { coefficients in
        withUnsafeTemporaryAllocation(of: V.self, capacity: rows * cols) { middle in
          var c = 0
          while c + 8 <= length {
            // middle[r][j] = Σᵢ L[r][i] in[i][j]
            for j in 0..<cols {
              let src = UnsafeRawPointer(input + j * inColumn + c)
              for r in 0..<rows {
                var sum = V()
                for t in starts[r]..<starts[r + 1] {
                  sum += coefficients[t] * src.loadUnaligned(fromByteOffset: columns[t] * inRow * 4, as: V.self)
                }
                middle[r * cols + j] = sum
              }
            }
            // out[r][s] = Σⱼ L[s][j] middle[r][j]
            for r in 0..<rows {
              for s in 0..<rows {
                var sum = V()
                for t in starts[s]..<starts[s + 1] { sum += coefficients[t] * middle[r * cols + columns[t]] }
                let dst = UnsafeMutableRawPointer(output + r * outRow + s * outColumn + c)
                if accumulate { sum += dst.loadUnaligned(as: V.self) }
                dst.storeBytes(of: sum, as: V.self)
              }
            }
            c += 8
          }
          if c < length {
            sandwichReference(
              l, input + c, inRow: inRow, inColumn: inColumn, output + c, outRow: outRow, outColumn: outColumn,
              length: length - c, accumulate: accumulate)
          }
        }
      }
    }
  }
}

/// `sandwich` by its definition, one float at a time: the plain reference kernel (and the
/// channels that do not fill a vector of eight).
package func sandwichReference(
  _ l: SmallMatrix, _ input: UnsafePointer<Float>, inRow: Int, inColumn: Int,
  _ output: UnsafeMutablePointer<Float>, outRow: Int, outColumn: Int, length: Int, accumulate: Bool = false
) {
  let (rows, cols) = (l.rows, l.cols)
  for r in 0..<rows {
    for s in 0..<rows {
      let dst = output + r * outRow + s * outColumn
      for c in 0..<length {
        var sum: Float = accumulate ? dst[c] : 0
        for i in 0..<cols {
          let a = l.values[r * cols + i]
          if a == 0 { continue }
          for j in 0..<cols where l.values[s * cols + j] != 0 {
            sum += a * l.values[s * cols + j] * input[i * inRow + j * inColumn + c]
          }
        }
        dst[c] = sum
      }
    }
  }
}
