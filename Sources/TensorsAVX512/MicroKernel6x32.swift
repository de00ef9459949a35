#if CNN_X86_NATIVE
  // The AVX-512 micro-kernel, in a module of its own because it is compiled for
  // `-target-cpu skylake-avx512` (Package.swift); `Tensors` calls it only after checking at
  // run time that the processor has AVX-512, and otherwise uses its AVX2 6x16 kernel.

  /// C[mr×nr] (+)= A[6×kc] · B[kc×32], as `microKernel6x16` in `Tensors` but 32 columns wide:
  /// A's element (r, p) is a[r*rs + p*cs]; B's row p is the 32 floats at b + p*bs.
  /// Twelve SIMD16 accumulators. Each output element is the same sequence of FMAs as in the
  /// 16-wide kernel, so both give bit-identical results.
  @inline(never)
  package func microKernel6x32(
    _ kc: Int, _ a: UnsafePointer<Float>, _ rs: Int, _ cs: Int, _ b: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ mr: Int, _ nr: Int
  ) {
    typealias V = SIMD16<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    let a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs, a4 = a + 4 * rs, a5 = a + 5 * rs
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
      p += cs
      bp += bStep
    }
    if mr == 6 && nr == 32 {
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
      return
    }
    withUnsafeTemporaryAllocation(of: V.self, capacity: 12) { t in
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
      writeEdgeTile(t.baseAddress!, width: 32, c, ldc, accumulate, mr, nr)
    }
  }

  /// The edge path of the AVX-512 kernels: adds (or stores) the top-left mr×nr of a tile that a
  /// kernel spilled to `tile`, rows `width` floats apart, into C.
  @inline(__always)
  func writeEdgeTile(
    _ tile: UnsafeRawPointer, width: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool,
    _ mr: Int, _ nr: Int
  ) {
    let f = tile.assumingMemoryBound(to: Float.self)
    for r in 0..<mr {
      let row = c + r * ldc
      let src = f + r * width
      if accumulate {
        for j in 0..<nr { row[j] += src[j] }
      } else {
        for j in 0..<nr { row[j] = src[j] }
      }
    }
  }
#endif
