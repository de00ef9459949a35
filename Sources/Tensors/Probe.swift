import Dispatch
import Foundation
import TensorsAVX512

/// The machine's practical FMA peak for a kernel family: each thread runs twelve independent
/// FMA chains (enough to hide the latency), SIMD8 for AVX2 or SIMD16 for AVX-512, for
/// `iterations` steps. Returns GFLOP/s over `threads` threads.
public func fmaProbePeak(threads: Int, kernel: SIMDKernel, iterations: Int = 20_000_000) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  let sink = UnsafeMutablePointer<Float>.allocate(capacity: threads)
  defer { sink.deallocate() }
  DispatchQueue.concurrentPerform(iterations: threads) { t in
    sink[t] = kernel == .avx512 ? fmaChains16(iterations) : fmaChains(iterations)
  }
  let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  let lanes = kernel == .avx512 ? 16 : 8
  return Double(threads * iterations * 12 * lanes * 2) / seconds / 1e9
}

/// The AVX2 chains; `fmaChains16` in TensorsAVX512 is the same loop at the AVX-512 width.
@inline(never)
func fmaChains(_ n: Int) -> Float {
  typealias V = SIMD8<Float>
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
  let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
  return s.sum()
}
