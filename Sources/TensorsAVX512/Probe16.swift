#if CNN_X86_NATIVE
  /// Twelve independent SIMD16 FMA chains for `n` steps: the AVX-512 half of the peak probe.
  @inline(never)
  package func fmaChains16(_ n: Int) -> Float {
    typealias V = SIMD16<Float>
    var a0 = V(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
    var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
    let x = V(repeating: 0.999_999), y = V(repeating: 1e-7)
    for _ in 0..<n {
      a0 = a0.addingProduct(x, y)
      a1 = a1.addingProduct(x, y)
      a2 = a2.addingProduct(x, y)
      a3 = a3.addingProduct(x, y)
      a4 = a4.addingProduct(x, y)
      a5 = a5.addingProduct(x, y)
      a6 = a6.addingProduct(x, y)
      a7 = a7.addingProduct(x, y)
      a8 = a8.addingProduct(x, y)
      a9 = a9.addingProduct(x, y)
      a10 = a10.addingProduct(x, y)
      a11 = a11.addingProduct(x, y)
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
  }
#endif
