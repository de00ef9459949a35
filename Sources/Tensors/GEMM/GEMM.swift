import Foundation
import Synchronization

// Matrix multiply: C[m×n] (+)= op(A)[m×k] · op(B)[k×n], all row-major.
// op(A)[i, p] is a[i*lda + p], or a[p*lda + i] when transA; likewise op(B)[p, j] is
// b[p*ldb + j], or b[j*ldb + p] when transB.
//
// `gemmReference` is the plain triple loop the fast kernel is tested against.
// `gemm` follows the BLIS structure (Blocking.swift): B is packed into KC×NR panels, or read
// in place when its rows are short (Packing.swift); A is read in place six rows at a time (a
// last partial panel packed), or in large products packed whole into panels once; a
// micro-kernel keeps a 6×NR tile of C in registers. The kernels: 6×8 in SIMD4 (portable,
// any processor), 6×16 in SIMD8 with FMA (AVX2), and on AVX-512 6×32, with 6×64 and 12×32
// ones that take two B or two A panels at once (module TensorsAVX512). Threads share a
// product by rows, or, when it is large, by column slices that each pack their own part of B
// and read the packed A.

/// The plain reference kernel.
package func gemmReference(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int, transA: Bool,
  b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
) {
  for i in 0..<m {
    for j in 0..<n {
      var s: Float = accumulate ? c[i * ldc + j] : 0
      for p in 0..<k {
        let av = transA ? a[p * lda + i] : a[i * lda + p]
        let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
        s += av * bv
      }
      c[i * ldc + j] = s
    }
  }
}

/// Rows of A per micro-kernel panel.
@usableFromInline let gemmMR = 6
/// k-block length: a 32-wide B panel of 128 rows is 16 KiB and stays in L1 beside A. Every
/// kernel uses the same blocking, which keeps the AVX2 and AVX-512 results bit-identical.
@usableFromInline let gemmKC = 128
/// Shortest k-block the AVX-512 12×32 kernel takes; shorter ones go to 6×32.
let gemm12MinKC = 16

/// The fast kernel: same contract as `gemmReference`.
///
/// Work is cut by shape alone (never by thread count) and every element of C is summed in
/// a fixed order, so results are bit-identical with any number of threads. With `parallel`
/// false the product runs on the calling thread (for callers that split work themselves).
package func gemm(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int, transA: Bool,
  b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool = true
) {
  if m == 0 || n == 0 { return }
  if GEMMClock.enabled {
    let threads = parallel && !WorkerPool.shared.isBusy ? Threads.count : 1
    let start = DispatchTime.now().uptimeNanoseconds
    defer { GEMMClock.add((DispatchTime.now().uptimeNanoseconds - start) * UInt64(threads)) }
    gemmTimed(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate, parallel)
    return
  }
  gemmTimed(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate, parallel)
}

/// `gemm` itself; `GEMMClock` times it when enabled.
@inline(__always)
private func gemmTimed(
  _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ transA: Bool, _ b: UnsafePointer<Float>,
  _ ldb: Int, _ transB: Bool, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ parallel: Bool
) {
  if k == 0 {
    if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
    return
  }
  // A long reduction into a small C (weight gradients: k = batch pixels): split k into
  // fixed chunks computed in parallel, then add the partial products in chunk order.
  let chunks = parallel && k >= 2048 && m * n <= 128 * 128 ? min(16, k / 1024) : 1
  if chunks > 1 {
    // Scratch comes from the tensor storage pool, so a training step reuses last step's.
    let scratch = TensorStorage(count: chunks * m * n, zeroed: false)
    defer { withExtendedLifetime(scratch) {} }  // keep it out of the pool until done
    let partial = scratch.pointer
    let step = (k + chunks - 1) / chunks
    parallelFor(chunks) { ch in
      let k0 = ch * step
      let kk = min(k, k0 + step) - k0
      gemmBlocked(
        m: m, n: n, k: kk, a: a + (transA ? k0 * lda : k0), lda: lda, transA: transA,
        b: b + (transB ? k0 : k0 * ldb), ldb: ldb, transB: transB, c: partial + ch * m * n, ldc: n,
        accumulate: false, parallel: false)
    }
    for i in 0..<m {
      let row = c + i * ldc
      if !accumulate { row.update(from: partial + i * n, count: n) }
      for ch in (accumulate ? 0 : 1)..<chunks { addInPlace(row, partial + ch * m * n + i * n, n) }
    }
    return
  }
  gemmBlocked(
    m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB, c: c, ldc: ldc,
    accumulate: accumulate, parallel: parallel)
}

/// Thread time spent inside `gemm` (wall time × the threads it ran on), for `cnn bench`'s
/// account of a training step. Off unless `enabled`; reading it costs one flag per call.
package enum GEMMClock {
  private static let on = Atomic<Bool>(false)
  private static let nanoseconds = Atomic<UInt64>(0)

  package static var enabled: Bool {
    get { on.load(ordering: .relaxed) }
    set { on.store(newValue, ordering: .relaxed) }
  }

  static func add(_ ns: UInt64) { _ = nanoseconds.wrappingAdd(ns, ordering: .relaxed) }

  /// The total so far, in seconds; `reset` sets it to 0.
  package static var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
  package static func reset() { nanoseconds.store(0, ordering: .relaxed) }
}
