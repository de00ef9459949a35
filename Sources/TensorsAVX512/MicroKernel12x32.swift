#if CNN_X86_NATIVE
  /// C[mr×nr] (+)= A[12×kc] · B[kc×32]: `microKernel6x32` on two 6-row panels of A at once
  /// (`top` for rows 0..<6, `bottom` for rows 6..<12, both addressed as a[r*rs + p*cs]), so each
  /// pair of B loads feeds 24 FMAs instead of 12. Twenty-four SIMD16 accumulators; AVX-512 has
  /// 32 registers, AVX2 only 16, which is why this width has no AVX2 twin. Each output element is
  /// the same sequence of FMAs as in the 6-row kernels, so the results are bit-identical.
  @inline(never)
  package func microKernel12x32(
    _ kc: Int, _ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>, _ rs: Int, _ cs: Int,
    _ b: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ mr: Int, _ nr: Int
  ) {
    typealias V = SIMD16<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var c60 = V(), c61 = V(), c70 = V(), c71 = V(), c80 = V(), c81 = V()
    var c90 = V(), c91 = V(), cA0 = V(), cA1 = V(), cB0 = V(), cB1 = V()
    let a0 = top, a1 = top + rs, a2 = top + 2 * rs, a3 = top + 3 * rs, a4 = top + 4 * rs, a5 = top + 5 * rs
    let a6 = bottom, a7 = bottom + rs, a8 = bottom + 2 * rs, a9 = bottom + 3 * rs
    let aA = bottom + 4 * rs, aB = bottom + 5 * rs
    var bp = UnsafeRawPointer(b)
    let bStep = bs * 4
    var p = 0
    for _ in 0..<kc {
      let b0 = bp.loadUnaligned(as: V.self)
      let b1 = bp.loadUnaligned(fromByteOffset: 64, as: V.self)
      var av = V(repeating: a0[p])
      c00 = c00.addingProduct(av, b0)
      c01 = c01.addingProduct(av, b1)
      av = V(repeating: a1[p])
      c10 = c10.addingProduct(av, b0)
      c11 = c11.addingProduct(av, b1)
      av = V(repeating: a2[p])
      c20 = c20.addingProduct(av, b0)
      c21 = c21.addingProduct(av, b1)
      av = V(repeating: a3[p])
      c30 = c30.addingProduct(av, b0)
      c31 = c31.addingProduct(av, b1)
      av = V(repeating: a4[p])
      c40 = c40.addingProduct(av, b0)
      c41 = c41.addingProduct(av, b1)
      av = V(repeating: a5[p])
      c50 = c50.addingProduct(av, b0)
      c51 = c51.addingProduct(av, b1)
      av = V(repeating: a6[p])
      c60 = c60.addingProduct(av, b0)
      c61 = c61.addingProduct(av, b1)
      av = V(repeating: a7[p])
      c70 = c70.addingProduct(av, b0)
      c71 = c71.addingProduct(av, b1)
      av = V(repeating: a8[p])
      c80 = c80.addingProduct(av, b0)
      c81 = c81.addingProduct(av, b1)
      av = V(repeating: a9[p])
      c90 = c90.addingProduct(av, b0)
      c91 = c91.addingProduct(av, b1)
      av = V(repeating: aA[p])
      cA0 = cA0.addingProduct(av, b0)
      cA1 = cA1.addingProduct(av, b1)
      av = V(repeating: aB[p])
      cB0 = cB0.addingProduct(av, b0)
      cB1 = cB1.addingProduct(av, b1)
      p += cs
      bp += bStep
    }
    if mr == 12 && nr == 32 {
      @inline(__always) func store(_ row: Int, _ lo: V, _ hi: V) {
        let q = UnsafeMutableRawPointer(c + row * ldc)
        if accumulate {
          q.storeBytes(of: q.loadUnaligned(as: V.self) + lo, as: V.self)
          q.storeBytes(of: q.loadUnaligned(fromByteOffset: 64, as: V.self) + hi, toByteOffset: 64, as: V.self)
        } else {
          q.storeBytes(of: lo, as: V.self)
          q.storeBytes(of: hi, toByteOffset: 64, as: V.self)
        }
      }
      store(0, c00, c01)
      store(1, c10, c11)
      store(2, c20, c21)
      store(3, c30, c31)
      store(4, c40, c41)
      store(5, c50, c51)
      store(6, c60, c61)
      store(7, c70, c71)
      store(8, c80, c81)
      store(9, c90, c91)
      store(10, cA0, cA1)
      store(11, cB0, cB1)
      return
    }
    withUnsafeTemporaryAllocation(of: V.self, capacity: 24) { t in
      t[0] = c00
      t[1] = c01
      t[2] = c10
      t[3] = c11
      t[4] = c20
      t[5] = c21
      t[6] = c30
      t[7] = c31
      t[8] = c40
      t[9] = c41
      t[10] = c50
      t[11] = c51
      t[12] = c60
      t[13] = c61
      t[14] = c70
      t[15] = c71
      t[16] = c80
      t[17] = c81
      t[18] = c90
      t[19] = c91
      t[20] = cA0
      t[21] = cA1
      t[22] = cB0
      t[23] = cB1
      writeEdgeTile(t.baseAddress!, width: 32, c, ldc, accumulate, mr, nr)
    }
  }
#endif
