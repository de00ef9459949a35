#if CNN_X86_NATIVE
  /// C[mr×nr] (+)= A[6×kc] · B[kc×64]: `microKernel6x32` over two 32-column panels of B at once
  /// (`left` for columns 0..<32, `right` for 32..<64, each row p at + p*bs), so each broadcast of
  /// A feeds four FMAs and A is read once for 64 columns. Twenty-four SIMD16 accumulators, which
  /// only AVX-512's 32 registers hold. Each output element is the same sequence of FMAs as in the
  /// other kernels, so the results are bit-identical. The C tile is prefetched at the start, and
  /// with `prefetchB` (the first call over a pair) B ahead of use.
  @inline(never)
  package func microKernel6x64(
    _ kc: Int, _ a: UnsafePointer<Float>, _ rs: Int, _ cs: Int,
    _ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ mr: Int, _ nr: Int,
    prefetchB: Bool
  ) {
    typealias V = SIMD16<Float>
    // The C tile is read only after the k loop, too late to hide a miss: ask for it now.
    for r in 0..<mr {
      let row = UnsafeRawPointer(c + r * ldc)
      prefetchForWrite(row)
      prefetchForWrite(row + 64)
      prefetchForWrite(row + 128)
      prefetchForWrite(row + 192)
    }
    var c00 = V(), c01 = V(), c02 = V(), c03 = V()
    var c10 = V(), c11 = V(), c12 = V(), c13 = V()
    var c20 = V(), c21 = V(), c22 = V(), c23 = V()
    var c30 = V(), c31 = V(), c32 = V(), c33 = V()
    var c40 = V(), c41 = V(), c42 = V(), c43 = V()
    var c50 = V(), c51 = V(), c52 = V(), c53 = V()
    // One k step: row p of both B panels at l and r; column p of A at ap, rows rs apart.
    @inline(__always) func step(_ ap: UnsafePointer<Float>, _ l: UnsafeRawPointer, _ r: UnsafeRawPointer, _ rs: Int) {
      let b0 = l.loadUnaligned(as: V.self)
      let b1 = l.loadUnaligned(fromByteOffset: 64, as: V.self)
      let b2 = r.loadUnaligned(as: V.self)
      let b3 = r.loadUnaligned(fromByteOffset: 64, as: V.self)
      var av = V(repeating: ap[0])
      c00 = c00.addingProduct(av, b0)
      c01 = c01.addingProduct(av, b1)
      c02 = c02.addingProduct(av, b2)
      c03 = c03.addingProduct(av, b3)
      av = V(repeating: ap[rs])
      c10 = c10.addingProduct(av, b0)
      c11 = c11.addingProduct(av, b1)
      c12 = c12.addingProduct(av, b2)
      c13 = c13.addingProduct(av, b3)
      av = V(repeating: ap[2 * rs])
      c20 = c20.addingProduct(av, b0)
      c21 = c21.addingProduct(av, b1)
      c22 = c22.addingProduct(av, b2)
      c23 = c23.addingProduct(av, b3)
      av = V(repeating: ap[3 * rs])
      c30 = c30.addingProduct(av, b0)
      c31 = c31.addingProduct(av, b1)
      c32 = c32.addingProduct(av, b2)
      c33 = c33.addingProduct(av, b3)
      av = V(repeating: ap[4 * rs])
      c40 = c40.addingProduct(av, b0)
      c41 = c41.addingProduct(av, b1)
      c42 = c42.addingProduct(av, b2)
      c43 = c43.addingProduct(av, b3)
      av = V(repeating: ap[5 * rs])
      c50 = c50.addingProduct(av, b0)
      c51 = c51.addingProduct(av, b1)
      c52 = c52.addingProduct(av, b2)
      c53 = c53.addingProduct(av, b3)
    }
    var lp = UnsafeRawPointer(left)
    let rOffset = UnsafeRawPointer(right) - lp
    let bStep = bs * 4
    // The first row panel over a B pair finds it in L2 or L3, not L1: fetch 32 rows ahead.
    let ahead = 32 * bStep
    @inline(__always) func fetchAhead(_ l: UnsafeRawPointer) {
      prefetch(l + ahead)
      prefetch(l + (ahead + 64))
      prefetch(l + (rOffset + ahead))
      prefetch(l + (rOffset + ahead + 64))
    }
    var n = kc
    if cs == 1 {
      // A's rows read in place: four k steps at fixed offsets per pointer bump, so the loop
      // spends fewer instructions on addresses.
      var ap = a
      while n >= 4 {
        if prefetchB {
          fetchAhead(lp)
          fetchAhead(lp + bStep)
          fetchAhead(lp + 2 * bStep)
          fetchAhead(lp + 3 * bStep)
        }
        step(ap, lp, lp + rOffset, rs)
        step(ap + 1, lp + bStep, lp + (rOffset + bStep), rs)
        step(ap + 2, lp + 2 * bStep, lp + (rOffset + 2 * bStep), rs)
        step(ap + 3, lp + 3 * bStep, lp + (rOffset + 3 * bStep), rs)
        ap += 4
        lp += 4 * bStep
        n -= 4
      }
      while n > 0 {
        step(ap, lp, lp + rOffset, rs)
        ap += 1
        lp += bStep
        n -= 1
      }
    } else if rs == 1 && cs == 6 {
      // A packed (six values per k step): the same, at fixed offsets.
      var ap = a
      while n >= 4 {
        step(ap, lp, lp + rOffset, 1)
        step(ap + 6, lp + bStep, lp + (rOffset + bStep), 1)
        step(ap + 12, lp + 2 * bStep, lp + (rOffset + 2 * bStep), 1)
        step(ap + 18, lp + 3 * bStep, lp + (rOffset + 3 * bStep), 1)
        ap += 24
        lp += 4 * bStep
        n -= 4
      }
      while n > 0 {
        step(ap, lp, lp + rOffset, 1)
        ap += 6
        lp += bStep
        n -= 1
      }
    } else {
      var ap = a
      while n > 0 {
        if prefetchB { fetchAhead(lp) }
        step(ap, lp, lp + rOffset, rs)
        ap += cs
        lp += bStep
        n -= 1
      }
    }
    if mr == 6 && nr == 64 {
      @inline(__always) func store(_ row: Int, _ v0: V, _ v1: V, _ v2: V, _ v3: V) {
        let q = UnsafeMutableRawPointer(c + row * ldc)
        if accumulate {
          q.storeBytes(of: q.loadUnaligned(as: V.self) + v0, as: V.self)
          q.storeBytes(of: q.loadUnaligned(fromByteOffset: 64, as: V.self) + v1, toByteOffset: 64, as: V.self)
          q.storeBytes(of: q.loadUnaligned(fromByteOffset: 128, as: V.self) + v2, toByteOffset: 128, as: V.self)
          q.storeBytes(of: q.loadUnaligned(fromByteOffset: 192, as: V.self) + v3, toByteOffset: 192, as: V.self)
        } else {
          q.storeBytes(of: v0, as: V.self)
          q.storeBytes(of: v1, toByteOffset: 64, as: V.self)
          q.storeBytes(of: v2, toByteOffset: 128, as: V.self)
          q.storeBytes(of: v3, toByteOffset: 192, as: V.self)
        }
      }
      store(0, c00, c01, c02, c03)
      store(1, c10, c11, c12, c13)
      store(2, c20, c21, c22, c23)
      store(3, c30, c31, c32, c33)
      store(4, c40, c41, c42, c43)
      store(5, c50, c51, c52, c53)
      return
    }
    withUnsafeTemporaryAllocation(of: V.self, capacity: 24) { t in
      t[0] = c00
      t[1] = c01
      t[2] = c02
      t[3] = c03
      t[4] = c10
      t[5] = c11
      t[6] = c12
      t[7] = c13
      t[8] = c20
      t[9] = c21
      t[10] = c22
      t[11] = c23
      t[12] = c30
      t[13] = c31
      t[14] = c32
      t[15] = c33
      t[16] = c40
      t[17] = c41
      t[18] = c42
      t[19] = c43
      t[20] = c50
      t[21] = c51
      t[22] = c52
      t[23] = c53
      writeEdgeTile(t.baseAddress!, width: 64, c, ldc, accumulate, mr, nr)
    }
  }
#endif
