/// C[mr×nr] (+)= A[6×kc] · B[kc×8]: the portable micro-kernel, in Swift's SIMD4 alone (one
/// 128-bit register: NEON on arm64, SSE on x86-64), for processors and builds without the x86
/// kernels. Operands as for `microKernel6x16`; twelve accumulators, which fit the 16
/// registers of SSE and the 32 of NEON beside B's two vectors and A's broadcast.
@inline(never)
func microKernel6x8(
  _ kc: Int, _ a: UnsafePointer<Float>, _ rs: Int, _ cs: Int, _ b: UnsafePointer<Float>, _ bs: Int,
  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ mr: Int, _ nr: Int
) {
  typealias V = SIMD4<Float>
  var acc = (V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V())
  var ap = a
  var bp = UnsafeRawPointer(b)
  for _ in 0..<kc {
    let b0 = bp.loadUnaligned(as: V.self)
    let b1 = bp.loadUnaligned(fromByteOffset: 16, as: V.self)
    var av = V(repeating: ap[0])
    acc.0 = multiplyAdd(acc.0, av, b0)
    acc.1 = multiplyAdd(acc.1, av, b1)
    av = V(repeating: ap[rs])
    acc.2 = multiplyAdd(acc.2, av, b0)
    acc.3 = multiplyAdd(acc.3, av, b1)
    av = V(repeating: ap[2 * rs])
    acc.4 = multiplyAdd(acc.4, av, b0)
    acc.5 = multiplyAdd(acc.5, av, b1)
    av = V(repeating: ap[3 * rs])
    acc.6 = multiplyAdd(acc.6, av, b0)
    acc.7 = multiplyAdd(acc.7, av, b1)
    av = V(repeating: ap[4 * rs])
    acc.8 = multiplyAdd(acc.8, av, b0)
    acc.9 = multiplyAdd(acc.9, av, b1)
    av = V(repeating: ap[5 * rs])
    acc.10 = multiplyAdd(acc.10, av, b0)
    acc.11 = multiplyAdd(acc.11, av, b1)
    ap += cs
    bp += bs * 4
  }
  withUnsafeTemporaryAllocation(of: V.self, capacity: 12) { t in
    (t[0], t[1], t[2], t[3], t[4], t[5]) = (acc.0, acc.1, acc.2, acc.3, acc.4, acc.5)
    (t[6], t[7], t[8], t[9], t[10], t[11]) = (acc.6, acc.7, acc.8, acc.9, acc.10, acc.11)
    let f = UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self)
    writeTile(f, width: 8, c, ldc, accumulate, mr, nr)
  }
}

/// acc + a·b: one fused multiply-add where the build's target has the instruction (x86 with
/// the native flags, arm64), else a multiply and an add (an x86-64 build without FMA would
/// otherwise call `fmaf` for every lane).
@inline(__always)
func multiplyAdd(_ acc: SIMD4<Float>, _ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
  #if CNN_X86_NATIVE || arch(arm64)
    return acc.addingProduct(a, b)
  #else
    return acc + a * b
  #endif
}
