import Synchronization

/// How the GEMM cuts C's rows and columns into blocks for the caches (see Blocking.swift):
/// sizes tuned on a core with `CacheSizes.standard` (32 KiB L1d, 1 MiB L2), scaled to the
/// caches of this one, rounded to whole micro-kernel panels. It decides only which tiles of C
/// are computed together and by which thread, never the k-blocks (`gemmKC`) nor any sum's
/// order, so results are bit-identical with every tiling (tested).
package struct GEMMTiling: Equatable, Sendable {
  /// Rows of A per task when threads share one packed B (`sharedB`): A's block in L2.
  package let taskRows: Int
  /// Columns per slice of a large product (`columnSlices`): the slice's packed B in L2.
  package let sliceColumns: Int
  /// Rows per block of a slice in the AVX-512 order: against one k-block of B in L1.
  package let sliceRows: Int
  /// Rows per block of a slice in the AVX2 order: over all k-blocks, in L2 beside B.
  package let sliceRowsAVX2: Int

  package init(_ caches: CacheSizes) {
    let l2 = Double(caches.l2) / Double(CacheSizes.standard.l2)
    let l1 = Double(caches.l1) / Double(CacheSizes.standard.l1)
    /// `base` scaled by `factor`, a multiple of `step` within `range`.
    func scaled(_ base: Int, _ factor: Double, step: Int, _ range: ClosedRange<Int>) -> Int {
      min(range.upperBound, max(range.lowerBound, Int(Double(base) * factor / Double(step)) * step))
    }
    taskRows = scaled(120, l2, step: gemmMR, 60...240)
    sliceColumns = scaled(64, l2, step: 16, 16...256)
    sliceRows = scaled(36, l1, step: gemmMR, 12...96)
    sliceRowsAVX2 = scaled(108, l2, step: gemmMR, 36...216)
  }

  private static let inUse = Mutex(GEMMTiling(CacheSizes.detected))

  /// The tiling in use: from `CacheSizes.detected`; tests set others.
  package static var current: GEMMTiling {
    get { inUse.withLock { $0 } }
    set { inUse.withLock { $0 = newValue } }
  }
}

extension GEMMTiling: CustomStringConvertible {
  package var description: String {
    "\(taskRows) rows a task, column slices of \(sliceColumns) in blocks of \(sliceRows) rows "
      + "(AVX2: \(sliceRowsAVX2))"
  }
}
