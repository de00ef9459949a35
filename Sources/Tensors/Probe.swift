import Dispatch
import Foundation
import Synchronization
import TensorsAVX512

/// The machine's practical FMA peak for a kernel family: each thread runs twelve independent
/// multiply-add chains (enough to hide the latency), SIMD4 for the portable kernels, SIMD8
/// for AVX2 or SIMD16 for AVX-512, for `iterations` steps. Returns GFLOP/s over `threads`
/// threads.
package func fmaProbePeak(threads: Int, kernel: SIMDKernel, iterations: Int = 20_000_000) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  // Each thread's result, kept so that its chains are not optimised away.
  let sink = Mutex<[Float]>([])
  DispatchQueue.concurrentPerform(iterations: threads) { _ in
    let result: Float
    switch kernel {
    case .portable: result = multiplyAddChains4(iterations)
    case .avx2: result = fmaChains(iterations)
    case .avx512:
      #if CNN_X86_NATIVE
        result = fmaChains16(iterations)
      #else
        preconditionFailure("the AVX-512 kernels are not in this build")
      #endif
    }
    sink.withLock { $0.append(result) }
  }
  let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  let lanes = kernel.panelWidth / 2
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

/// The portable kernel's chains: SIMD4 multiply-adds as `microKernel6x8` does them.
@inline(never)
func multiplyAddChains4(_ n: Int) -> Float {
  typealias V = SIMD4<Float>
  var a = (V(repeating: 1), V(repeating: 1), V(repeating: 1), V(repeating: 1), V(repeating: 1), V(repeating: 1))
  var b = a
  let x = V(repeating: 0.999_999), y = V(repeating: 1e-7)
  for _ in 0..<n {
    a.0 = multiplyAdd(a.0, x, y)
    a.1 = multiplyAdd(a.1, x, y)
    a.2 = multiplyAdd(a.2, x, y)
    a.3 = multiplyAdd(a.3, x, y)
    a.4 = multiplyAdd(a.4, x, y)
    a.5 = multiplyAdd(a.5, x, y)
    b.0 = multiplyAdd(b.0, x, y)
    b.1 = multiplyAdd(b.1, x, y)
    b.2 = multiplyAdd(b.2, x, y)
    b.3 = multiplyAdd(b.3, x, y)
    b.4 = multiplyAdd(b.4, x, y)
    b.5 = multiplyAdd(b.5, x, y)
  }
  return (a.0 + a.1 + a.2 + a.3 + a.4 + a.5 + b.0 + b.1 + b.2 + b.3 + b.4 + b.5).sum()
}
