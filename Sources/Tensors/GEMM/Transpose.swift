/// dst[cols×rows] = transpose of src[rows×cols], both row-major: 8×8 blocks in registers,
/// the edges one by one.
package func transpose(
  _ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>
) {
  let fullRows = rows / 8 * 8
  let fullCols = cols / 8 * 8
  for i in stride(from: 0, to: fullRows, by: 8) {
    for j in stride(from: 0, to: fullCols, by: 8) { transpose8x8(src + i * cols + j, cols, dst + j * rows + i, rows) }
    for j in fullCols..<cols { for r in i..<(i + 8) { dst[j * rows + r] = src[r * cols + j] } }
  }
  for i in fullRows..<rows { for j in 0..<cols { dst[j * rows + i] = src[i * cols + j] } }
}

/// dst[q*ldd + i] = src[i*lds + q] for an 8×8 block.
@inline(__always)
func transpose8x8(_ src: UnsafePointer<Float>, _ lds: Int, _ dst: UnsafeMutablePointer<Float>, _ ldd: Int) {
  typealias V = SIMD8<Float>
  let s = UnsafeRawPointer(src)
  let (r0, r1, r2, r3, r4, r5, r6, r7) = transposed8x8(
    s.loadUnaligned(as: V.self), s.loadUnaligned(fromByteOffset: lds * 4, as: V.self),
    s.loadUnaligned(fromByteOffset: 2 * lds * 4, as: V.self), s.loadUnaligned(fromByteOffset: 3 * lds * 4, as: V.self),
    s.loadUnaligned(fromByteOffset: 4 * lds * 4, as: V.self), s.loadUnaligned(fromByteOffset: 5 * lds * 4, as: V.self),
    s.loadUnaligned(fromByteOffset: 6 * lds * 4, as: V.self), s.loadUnaligned(fromByteOffset: 7 * lds * 4, as: V.self))
  let d = UnsafeMutableRawPointer(dst)
  d.storeBytes(of: r0, as: V.self)
  d.storeBytes(of: r1, toByteOffset: ldd * 4, as: V.self)
  d.storeBytes(of: r2, toByteOffset: 2 * ldd * 4, as: V.self)
  d.storeBytes(of: r3, toByteOffset: 3 * ldd * 4, as: V.self)
  d.storeBytes(of: r4, toByteOffset: 4 * ldd * 4, as: V.self)
  d.storeBytes(of: r5, toByteOffset: 5 * ldd * 4, as: V.self)
  d.storeBytes(of: r6, toByteOffset: 6 * ldd * 4, as: V.self)
  d.storeBytes(of: r7, toByteOffset: 7 * ldd * 4, as: V.self)
}

/// The transpose of eight rows of eight lanes: lane q of the result's row i is lane i of
/// row q. Three rounds of splitting each pair of rows into even and odd lanes rotate the
/// 6-bit element index (row, lane) right by one bit each; after three the row and lane bits
/// have swapped places, which is the transpose.
@inline(__always)
func transposed8x8(
  _ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
  _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
  typealias V = SIMD8<Float>
  var (r0, r1, r2, r3, r4, r5, r6, r7) = (r0, r1, r2, r3, r4, r5, r6, r7)
  for _ in 0..<3 {
    (r0, r1, r2, r3, r4, r5, r6, r7) = (
      V(lowHalf: r0.evenHalf, highHalf: r1.evenHalf), V(lowHalf: r2.evenHalf, highHalf: r3.evenHalf),
      V(lowHalf: r4.evenHalf, highHalf: r5.evenHalf), V(lowHalf: r6.evenHalf, highHalf: r7.evenHalf),
      V(lowHalf: r0.oddHalf, highHalf: r1.oddHalf), V(lowHalf: r2.oddHalf, highHalf: r3.oddHalf),
      V(lowHalf: r4.oddHalf, highHalf: r5.oddHalf), V(lowHalf: r6.oddHalf, highHalf: r7.oddHalf)
    )
  }
  return (r0, r1, r2, r3, r4, r5, r6, r7)
}
