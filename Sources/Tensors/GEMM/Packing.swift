import TensorsAVX512

// Packing of the GEMM operands into the panels the micro-kernels read.

/// Packs op(B)[0..<kc, 0..<nc] into panels of `width` columns (the micro-kernel's): panel j
/// holds, for each p, `width` consecutive values (zero beyond nc).
@inline(__always)
func packB(
  kc: Int, nc: Int, width: Int, b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  into dst: UnsafeMutablePointer<Float>
) {
  var j0 = 0
  var out = dst
  while j0 < nc {
    let w = min(width, nc - j0)
    if !transB {
      for p in 0..<kc {
        let src = b + p * ldb + j0
        // Rows of B lie ldb apart, too far for the hardware prefetcher: ask for the row 16
        // ahead.
        let ahead = UnsafeRawPointer(src + 16 * ldb)
        prefetch(ahead)
        prefetch(ahead + 64)
        let o = out + p * width
        copyFloats(o, src, w)
        if w < width { (o + w).update(repeating: 0, count: width - w) }
      }
    } else {
      // Row p of the panel gathers element p of `w` rows of B: 8×8 blocks transposed in
      // registers, the edges one float at a time.
      let fullJ = w - w % 8
      let fullP = kc - kc % 8
      var jj = 0
      while jj < fullJ {
        var p = 0
        while p < fullP {
          transpose8x8(b + (j0 + jj) * ldb + p, ldb, out + p * width + jj, width)
          p += 8
        }
        for p in fullP..<kc {
          for j in jj..<(jj + 8) { out[p * width + j] = b[(j0 + j) * ldb + p] }
        }
        jj += 8
      }
      for p in 0..<kc {
        let o = out + p * width
        for j in fullJ..<w { o[j] = b[(j0 + j) * ldb + p] }
        if w < width { (o + w).update(repeating: 0, count: width - w) }
      }
    }
    out += kc * width
    j0 += width
  }
}

/// Rows of A once packed in whole panels of 6 (see `packAllA`).
@inline(__always)
func packedAllRows(_ m: Int) -> Int { (m + gemmMR - 1) / gemmMR * gemmMR }

/// Packs all of op(A) (m×k) in k-blocks of `kc0`: k-block pb at dst + pb*kc0*R (R =
/// `packedAllRows(m)`), and within it the panel of rows i..<i+6 at + i*kc, as `packA` lays
/// it out. Both threads share the work in groups of 8 panels, each over all of k, so that
/// every row of A is read as one long stream the hardware prefetcher follows.
func packAllA(
  m: Int, k: Int, kc0: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool,
  into dst: UnsafeMutablePointer<Float>
) {
  let rowsPadded = packedAllRows(m)
  let groupRows = 8 * gemmMR
  let groups = (m + groupRows - 1) / groupRows
  let kBlocks = (k + kc0 - 1) / kc0
  parallelFor(groups) { g in
    let i0 = g * groupRows
    for pb in 0..<kBlocks {
      let pc = pb * kc0
      let kc = min(kc0, k - pc)
      packA(
        mc: min(m, i0 + groupRows) - i0, kc: kc, a: a + (transA ? pc * lda + i0 : i0 * lda + pc), lda: lda,
        transA: transA, into: dst + pc * rowsPadded + i0 * kc)
    }
  }
}

/// Packs op(A)[0..<mc, 0..<kc] into panels of 6 rows: panel i holds, for each p,
/// 6 consecutive values (zero beyond mc).
@inline(__always)
func packA(
  mc: Int, kc: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool,
  into dst: UnsafeMutablePointer<Float>
) {
  var i0 = 0
  var out = dst
  while i0 < mc {
    let h = min(gemmMR, mc - i0)
    if transA {
      // Row p of op(A)ᵀ holds the panel's h values side by side. A panel short of rows is
      // zeroed in one go first, rather than its few slots per p, which compiles to a memset
      // call per p.
      if h < gemmMR { out.update(repeating: 0, count: kc * gemmMR) }
      for p in 0..<kc {
        let src = a + p * lda + i0
        let o = out + p * gemmMR
        o[0] = src[0]
        if h > 1 { o[1] = src[1] }
        if h > 2 { o[2] = src[2] }
        if h > 3 { o[3] = src[3] }
        if h > 4 { o[4] = src[4] }
        if h > 5 { o[5] = src[5] }
      }
    } else if h == gemmMR && kc > 8 {
      // Eight columns of the six rows at a time, transposed in registers (`transposed8x8`,
      // rows 6 and 7 zero). Column q's 8 lanes are stored at its 6-float slot;
      // the next column overwrites the 2 extra. The last columns go one by one, so nothing is
      // written past the panel.
      typealias V = SIMD8<Float>
      let src = UnsafeRawPointer(a + i0 * lda)
      let fullP = (kc - 1) / 8 * 8
      var p = 0
      while p < fullP {
        let (r0, r1, r2, r3, r4, r5, r6, r7) = transposed8x8(
          src.loadUnaligned(fromByteOffset: p * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (2 * lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (3 * lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (4 * lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (5 * lda + p) * 4, as: V.self), V(), V())
        let d = UnsafeMutableRawPointer(out + p * gemmMR)
        let slot = gemmMR * 4
        d.storeBytes(of: r0, as: V.self)
        d.storeBytes(of: r1, toByteOffset: slot, as: V.self)
        d.storeBytes(of: r2, toByteOffset: 2 * slot, as: V.self)
        d.storeBytes(of: r3, toByteOffset: 3 * slot, as: V.self)
        d.storeBytes(of: r4, toByteOffset: 4 * slot, as: V.self)
        d.storeBytes(of: r5, toByteOffset: 5 * slot, as: V.self)
        d.storeBytes(of: r6, toByteOffset: 6 * slot, as: V.self)
        d.storeBytes(of: r7, toByteOffset: 7 * slot, as: V.self)
        p += 8
      }
      for p in fullP..<kc {
        for r in 0..<gemmMR { out[p * gemmMR + r] = src.load(fromByteOffset: (r * lda + p) * 4, as: Float.self) }
      }
    } else {
      for r in 0..<gemmMR {
        if r < h {
          let src = a + (i0 + r) * lda
          for p in 0..<kc { out[p * gemmMR + r] = src[p] }
        } else {
          for p in 0..<kc { out[p * gemmMR + r] = 0 }
        }
      }
    }
    out += kc * gemmMR
    i0 += gemmMR
  }
}
