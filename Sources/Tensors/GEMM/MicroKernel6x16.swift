/// C[mr×nr] (+)= A[6×kc] · B[kc×16], where A's element (r, p) is a[r*rs + p*cs]: a packed
/// panel (rs 1, cs 6), or rows of A read in place (rs lda, cs 1; transposed: rs 1, cs lda;
/// one of rs and cs must be 1);
/// and B's row p is the 16 floats at b + p*bs (a packed panel: bs 16; in place: bs ldb).
/// Kept out of line: inlined, LLVM spills the twelve accumulators. Its AVX-512 twin,
/// `microKernel6x32` in TensorsAVX512, does the same for another register width (it must be
/// compiled with other flags), in one step per turn: change both together, keeping the same
/// FMAs in the same order.
@inline(never)
func microKernel6x16(
  _ kc: Int, _ a: UnsafePointer<Float>, _ rs: Int, _ cs: Int, _ b: UnsafePointer<Float>, _ bs: Int,
  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ mr: Int, _ nr: Int
) {
  typealias V = SIMD8<Float>
  var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
  var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
  var bp = UnsafeRawPointer(b)
  let bStep = bs * 4
  // Every panel of A here has rs 1 or cs 1. Both loops take four steps per turn with fixed
  // offsets, so that the loads need no address arithmetic of their own.
  /// Step `o` of the turn: B's row o against the six values of A at `column(r)`.
  @inline(__always) func step(_ o: Int, _ column: (Int) -> Float) {
    let b0 = bp.loadUnaligned(fromByteOffset: o * bStep, as: V.self)
    let b1 = bp.loadUnaligned(fromByteOffset: o * bStep + 32, as: V.self)
    var av = V(repeating: column(0))
    c00 = c00.addingProduct(av, b0)
    c01 = c01.addingProduct(av, b1)
    av = V(repeating: column(1))
    c10 = c10.addingProduct(av, b0)
    c11 = c11.addingProduct(av, b1)
    av = V(repeating: column(2))
    c20 = c20.addingProduct(av, b0)
    c21 = c21.addingProduct(av, b1)
    av = V(repeating: column(3))
    c30 = c30.addingProduct(av, b0)
    c31 = c31.addingProduct(av, b1)
    av = V(repeating: column(4))
    c40 = c40.addingProduct(av, b0)
    c41 = c41.addingProduct(av, b1)
    av = V(repeating: column(5))
    c50 = c50.addingProduct(av, b0)
    c51 = c51.addingProduct(av, b1)
  }
  /// A's six values of a step lie side by side, steps `stride` apart: a packed panel (stride
  /// 6, a constant once inlined) or transposed A read in place (stride lda).
  @inline(__always) func sideBySide(_ stride: Int) {
    var ap = a
    var p = 0
    while p + 4 <= kc {
      step(0) { ap[$0] }
      step(1) { ap[stride + $0] }
      step(2) { ap[2 * stride + $0] }
      step(3) { ap[3 * stride + $0] }
      ap += 4 * stride
      bp += 4 * bStep
      p += 4
    }
    while p < kc {
      step(0) { ap[$0] }
      ap += stride
      bp += bStep
      p += 1
    }
  }
  if rs == 1 && cs == gemmMR {
    sideBySide(gemmMR)
  } else if rs == 1 {
    sideBySide(cs)
  } else {
    // Six rows of A read in place, rs apart (cs is 1).
    var p = 0
    while p + 4 <= kc {
      step(0) { a[$0 * rs + p] }
      step(1) { a[$0 * rs + p + 1] }
      step(2) { a[$0 * rs + p + 2] }
      step(3) { a[$0 * rs + p + 3] }
      bp += 4 * bStep
      p += 4
    }
    while p < kc {
      step(0) { a[$0 * rs + p] }
      bp += bStep
      p += 1
    }
  }
  if mr == gemmMR && nr == 16 {
    @inline(__always) func store(_ row: Int, _ lo: V, _ hi: V) {
      let p = UnsafeMutableRawPointer(c + row * ldc)
      if accumulate {
        p.storeBytes(of: p.loadUnaligned(as: V.self) + lo, as: V.self)
        p.storeBytes(
          of: p.loadUnaligned(fromByteOffset: 32, as: V.self) + hi, toByteOffset: 32, as: V.self)
      } else {
        p.storeBytes(of: lo, as: V.self)
        p.storeBytes(of: hi, toByteOffset: 32, as: V.self)
      }
    }
    store(0, c00, c01)
    store(1, c10, c11)
    store(2, c20, c21)
    store(3, c30, c31)
    store(4, c40, c41)
    store(5, c50, c51)
    return
  }
  withUnsafeTemporaryAllocation(of: V.self, capacity: 12) { t in
    t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21
    t[6] = c30; t[7] = c31; t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51
    let f = UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self)
    writeTile(f, width: 16, c, ldc, accumulate, mr, nr)
  }
}

/// Writes (or adds) the top-left mr×nr of a tile held row by row, `width` floats a row, into
/// C: the edge tiles of the micro-kernels.
@inline(__always)
func writeTile(
  _ tile: UnsafePointer<Float>, width: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool,
  _ mr: Int, _ nr: Int
) {
  for r in 0..<mr {
    let row = c + r * ldc
    let src = tile + r * width
    if accumulate {
      for j in 0..<nr { row[j] += src[j] }
    } else {
      for j in 0..<nr { row[j] = src[j] }
    }
  }
}
