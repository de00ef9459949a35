import Tensors
import XCTest

final class GEMMTests: XCTestCase {
  func fill(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<n).map { _ in rng.uniform(-1, 1) }
  }

  /// Fast and reference kernels agree on odd shapes, every transpose, with and without
  /// accumulation, and across the blocking edges (k > 256, n > 16, m > 120).
  func testFastMatchesReference() {
    withEachKernel(fastMatchesReference)
  }

  /// Runs `body` with each kernel family as the current one: AVX2 always, AVX-512 where the
  /// processor has it.
  func withEachKernel(_ body: (SIMDKernel) -> Void) {
    for kernel in SIMDKernel.best == .avx512 ? [SIMDKernel.avx2, .avx512] : [.avx2] {
      SIMDKernel.current = kernel
      defer { SIMDKernel.current = .best }
      body(kernel)
    }
  }

  func fastMatchesReference(_ kernel: SIMDKernel) {
    // Covers: edge panels, several k-blocks, B read in place with a packed edge panel (n = 33,
    // 70), B packed whole (n > 256 columns via transB), the k-split of long reductions, and
    // column slices that pack their own B (m ≥ 240, n ≥ 512), the last one partial, and a
    // single k-block of B packed in groups of panels by both threads (n = 1100).
    let shapes = [
      (1, 1, 1), (7, 5, 3), (13, 17, 19), (6, 16, 1), (125, 33, 260), (37, 70, 513), (250, 19, 7), (27, 32, 2500),
      (20, 35, 4100), (9, 300, 40), (130, 100, 200), (64, 64, 64), (241, 520, 20), (10, 1100, 64),
    ]
    for (m, n, k) in shapes {
      for transA in [false, true] {
        for transB in [false, true] {
          for accumulate in [false, true] {
            let a = fill(m * k, seed: 1)
            let b = fill(k * n, seed: 2)
            let c0 = fill(m * n, seed: 3)
            var fast = c0
            var ref = c0
            let lda = transA ? m : k
            let ldb = transB ? k : n
            fast.withUnsafeMutableBufferPointer { c in
              gemm(
                m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB,
                c: c.baseAddress!, ldc: n, accumulate: accumulate)
            }
            ref.withUnsafeMutableBufferPointer { c in
              gemmReference(
                m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB,
                c: c.baseAddress!, ldc: n, accumulate: accumulate)
            }
            for i in 0..<(m * n) {
              if abs(fast[i] - ref[i]) > 1e-4 * Float(k).squareRoot() + 1e-5 {
                XCTFail(
                  "\(kernel) m\(m) n\(n) k\(k) tA \(transA) tB \(transB) acc \(accumulate) [\(i)]: \(fast[i]) vs \(ref[i])"
                )
                return
              }
            }
          }
        }
      }
    }
  }

  /// Column slices over several k-blocks, a partial last slice and a partial last row block
  /// match the reference, and sum every element in the same order as the plain row blocks
  /// (the product on the calling thread alone), accumulating or not: AVX2 slices sum through
  /// a buffer that starts from C's values.
  func testColumnSlicesMatchReference() {
    let (m, n, k) = (245, 520, 330)
    withEachKernel { kernel in
      for (transA, transB, accumulate) in [(false, false, true), (true, true, true), (false, false, false)] {
        let a = fill(m * k, seed: 7)
        let b = fill(k * n, seed: 8)
        var fast = fill(m * n, seed: 9)
        var plain = fast
        var ref = fast
        let lda = transA ? m : k
        let ldb = transB ? k : n
        fast.withUnsafeMutableBufferPointer { c in
          gemm(
            m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB, c: c.baseAddress!,
            ldc: n, accumulate: accumulate)
        }
        plain.withUnsafeMutableBufferPointer { c in
          gemm(
            m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB, c: c.baseAddress!,
            ldc: n, accumulate: accumulate, parallel: false)
        }
        ref.withUnsafeMutableBufferPointer { c in
          gemmReference(
            m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB, c: c.baseAddress!,
            ldc: n, accumulate: accumulate)
        }
        let label = "\(kernel) transA \(transA) transB \(transB) accumulate \(accumulate)"
        let worst = zip(fast, ref).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-3, label)
        let differing = zip(fast, plain).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(label): not bit-identical to the product on one thread")
      }
    }
  }

  /// A larger leading dimension than the row length (a sub-matrix) is honoured.
  func testLeadingDimensions() {
    let (m, n, k) = (5, 18, 9)
    let a = fill(m * 12, seed: 4)
    let b = fill(k * 20, seed: 5)
    var fast = [Float](repeating: 7, count: m * 21)
    var ref = fast
    fast.withUnsafeMutableBufferPointer { c in
      gemm(
        m: m, n: n, k: k, a: a, lda: 12, transA: false, b: b, ldb: 20, transB: false, c: c.baseAddress!, ldc: 21,
        accumulate: false)
    }
    ref.withUnsafeMutableBufferPointer { c in
      gemmReference(
        m: m, n: n, k: k, a: a, lda: 12, transA: false, b: b, ldb: 20, transB: false, c: c.baseAddress!, ldc: 21,
        accumulate: false)
    }
    for i in 0..<fast.count { XCTAssertEqual(fast[i], ref[i], accuracy: 1e-4) }
    XCTAssertEqual(fast[20], 7, "columns beyond n are untouched")
  }

  /// C = op(A)·op(B), on the given number of threads.
  func product(
    m: Int, n: Int, k: Int, transA: Bool = true, transB: Bool = false, threads: Int, seed: UInt64
  ) -> [Float] {
    let a = fill(m * k, seed: seed)
    let b = fill(k * n, seed: seed + 1)
    let saved = Threads.count
    Threads.count = threads
    defer { Threads.count = saved }
    var c = [Float](repeating: 0, count: m * n)
    c.withUnsafeMutableBufferPointer { c in
      gemm(
        m: m, n: n, k: k, a: a, lda: transA ? m : k, transA: transA, b: b, ldb: transB ? k : n, transB: transB,
        c: c.baseAddress!, ldc: n, accumulate: false)
    }
    return c
  }

  /// The AVX2 and AVX-512 kernels give bit-identical products (same FMAs in the same order).
  func testKernelsAgreeBitForBit() throws {
    guard SIMDKernel.best == .avx512 else {
      throw XCTSkip("the AVX-512 kernels are not available (processor, build or CNN_SIMD)")
    }
    defer { SIMDKernel.current = .best }
    // Shapes that reach every AVX-512 kernel (6x32, 12x32, 6x64) and every way of reading A and
    // B, column slices included.
    for (m, n, k) in [
      (300, 70, 600), (27, 32, 5000), (61, 45, 300), (130, 100, 200), (250, 33, 40), (241, 500, 300), (241, 520, 330),
    ] {
      for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
        SIMDKernel.current = .avx2
        let a = product(m: m, n: n, k: k, transA: transA, transB: transB, threads: 2, seed: 3)
        SIMDKernel.current = .avx512
        let b = product(m: m, n: n, k: k, transA: transA, transB: transB, threads: 2, seed: 3)
        XCTAssertEqual(a, b, "m\(m) n\(n) k\(k) transA \(transA) transB \(transB)")
      }
    }
  }

  /// The portable kernel (6×8 panels) against the plain loop, whatever the processor, on
  /// shapes with edge tiles, every way of reading A and B, and column slices; and it too is
  /// bit-identical with 1 and 2 threads.
  func testPortableKernelMatchesTheReference() {
    SIMDKernel.current = .portable
    defer { SIMDKernel.current = .best }
    for (m, n, k) in [(1, 1, 1), (7, 9, 3), (61, 45, 300), (27, 32, 5000), (250, 33, 40), (241, 520, 330)] {
      for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
        let fast = product(m: m, n: n, k: k, transA: transA, transB: transB, threads: 2, seed: 4)
        let a = fill(m * k, seed: 4)
        let b = fill(k * n, seed: 5)
        var expected = [Float](repeating: 0, count: m * n)
        expected.withUnsafeMutableBufferPointer { c in
          gemmReference(
            m: m, n: n, k: k, a: a, lda: transA ? m : k, transA: transA, b: b, ldb: transB ? k : n,
            transB: transB, c: c.baseAddress!, ldc: n, accumulate: false)
        }
        let worst = zip(fast, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-4, "m\(m) n\(n) k\(k) transA \(transA) transB \(transB)")
        let single = product(m: m, n: n, k: k, transA: transA, transB: transB, threads: 1, seed: 4)
        XCTAssertEqual(fast, single, "m\(m) n\(n) k\(k)")
      }
    }
  }

  /// Results are bit-identical with 1 and 2 threads: the work split depends on the shape only,
  /// for blocked products and for the k-split of long reductions into a small C.
  func testIdenticalAcrossThreadCounts() {
    for (m, n, k) in [(300, 70, 600), (27, 32, 5000), (241, 520, 330), (10, 1100, 64)] {
      XCTAssertEqual(
        product(m: m, n: n, k: k, threads: 1, seed: 6), product(m: m, n: n, k: k, threads: 2, seed: 6))
    }
  }

  /// transpose gives dst[j][i] = src[i][j] for shapes with and without whole 8×8 blocks.
  func testTransposeMatchesThePlainLoop() {
    for (rows, cols) in [(1, 1), (8, 8), (288, 64), (13, 21), (16, 3), (5, 24)] {
      let src = (0..<(rows * cols)).map { Float($0) }
      var dst = [Float](repeating: .nan, count: rows * cols)
      dst.withUnsafeMutableBufferPointer { transpose(src, rows: rows, cols: cols, into: $0.baseAddress!) }
      var expected = [Float](repeating: 0, count: rows * cols)
      for i in 0..<rows { for j in 0..<cols { expected[j * rows + i] = src[i * cols + j] } }
      XCTAssertEqual(dst, expected, "\(rows)×\(cols)")
    }
  }
}
