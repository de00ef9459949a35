import Tensors
import XCTest

final class GEMMTilingTests: XCTestCase {
  /// The tuned caches give the tuned tiling; a Zen 3 core's 512 KiB L2 halves the blocks that
  /// live in L2 and keeps the one in L1; tiny and huge caches stay within bounds.
  func testTilingFollowsTheCaches() {
    let standard = GEMMTiling(CacheSizes.standard)
    XCTAssertEqual(
      [standard.taskRows, standard.sliceColumns, standard.sliceRows, standard.sliceRowsAVX2], [120, 64, 36, 108])
    let zen3 = GEMMTiling(CacheSizes(l1: 32 << 10, l2: 512 << 10, l3: 32 << 20, source: "test"))
    XCTAssertEqual([zen3.taskRows, zen3.sliceColumns, zen3.sliceRows, zen3.sliceRowsAVX2], [60, 32, 36, 54])
    for (l1, l2) in [(4 << 10, 4 << 10), (1 << 30, 1 << 34)] {
      let t = GEMMTiling(CacheSizes(l1: l1, l2: l2, l3: l2, source: "test"))
      for rows in [t.taskRows, t.sliceRows, t.sliceRowsAVX2] {
        XCTAssertEqual(rows % 6, 0, "rows come in whole panels of six")
        XCTAssertTrue((12...240).contains(rows), "\(t)")
      }
      XCTAssertTrue((16...256).contains(t.sliceColumns), "\(t)")
    }
  }

  /// `CNN_CACHE`'s text: sizes in bytes, K, M or G, any of the three levels; anything else
  /// is refused with a message that says what was expected.
  func testOverrideText() throws {
    let sizes = try CacheSizes.standard.overridden(by: "l2=512K, L3=16M")
    XCTAssertEqual([sizes.l1, sizes.l2, sizes.l3], [32 << 10, 512 << 10, 16 << 20])
    XCTAssertTrue(sizes.source.contains("CNN_CACHE=l2=512K, L3=16M"), sizes.source)
    XCTAssertEqual(try CacheSizes.standard.overridden(by: "l1=65536").l1, 65536)
    for bad in ["l2", "l4=1M", "l2=abc", "l2=1K", "l2=99999999999G", "l2=-5M", "=1M"] {
      XCTAssertThrowsError(try CacheSizes.standard.overridden(by: bad), bad) { error in
        XCTAssertTrue("\(error)".contains("l2=512K") || "\(error)".contains("cache level"), "\(bad): \(error)")
      }
    }
  }

  /// The caches read here are plausible (or the default, where the system does not say).
  func testDetectedSizes() {
    let d = CacheSizes.detected
    XCTAssertGreaterThanOrEqual(d.l1, 4 << 10)
    XCTAssertGreaterThanOrEqual(d.l2, d.l1, "\(d)")
    XCTAssertFalse(d.source.isEmpty)
  }

  /// One machine's tiling run on another gives the same bits: products that take every path
  /// (shared packed B, B in place, column slices in both kernels' orders, accumulating or
  /// not) under the tilings of 256 KiB to 2 MiB of L2, on 2 threads, equal the standard's.
  func testEveryTilingGivesTheSameBits() {
    let saved = GEMMTiling.current
    defer { GEMMTiling.current = saved }
    let tilings = [256 << 10, 512 << 10, 1 << 20, 2 << 20].map {
      GEMMTiling(CacheSizes(l1: 32 << 10, l2: $0, l3: 32 << 20, source: "test"))
    }
    let kernels = SIMDKernel.best == .avx512 ? [SIMDKernel.avx2, .avx512] : [SIMDKernel.best]
    defer { SIMDKernel.current = .best }
    for kernel in kernels {
      SIMDKernel.current = kernel
      for (m, n, k, transB) in [(490, 1100, 150, true), (245, 520, 330, true), (300, 70, 600, false)] {
        for accumulate in [false, true] {
          var results: [[Float]] = []
          for tiling in tilings {
            GEMMTiling.current = tiling
            results.append(product(m: m, n: n, k: k, transB: transB, accumulate: accumulate))
          }
          for (tiling, result) in zip(tilings, results) {
            let differing = zip(result, results[2]).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "\(kernel) m\(m) n\(n) k\(k) accumulate \(accumulate), \(tiling)")
          }
        }
      }
    }
  }

  /// C (+)= A·op(B) with seeded values, C starting from seeded values.
  private func product(m: Int, n: Int, k: Int, transB: Bool, accumulate: Bool) -> [Float] {
    var rng = SeededRandom(seed: 11)
    let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
    let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
    var c = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
    c.withUnsafeMutableBufferPointer { c in
      gemm(
        m: m, n: n, k: k, a: a, lda: k, transA: false, b: b, ldb: transB ? k : n, transB: transB,
        c: c.baseAddress!, ldc: n, accumulate: accumulate)
    }
    return c
  }
}
