import TensorsAVX512

// How a product is cut into blocks for the micro-kernels and shared between threads.

/// One product C (+)= op(A)·op(B) (see `gemm`) with its block sizes.
struct GEMMBlocks {
  let m: Int, n: Int, k: Int
  let a: UnsafePointer<Float>, lda: Int, transA: Bool
  let b: UnsafePointer<Float>, ldb: Int, transB: Bool
  let c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
  let kernel: SIMDKernel
  /// Columns per panel of B (the micro-kernel's width), and the number of panels.
  let nrMax: Int, panels: Int
  /// k-blocks of at most KC + KC/4, as even as possible (k = 288 stays one block).
  let kBlocks: Int, kc0: Int
  /// Short, untransposed rows of B (kernels, gradients of narrow layers) are read in place,
  /// NR columns at a time; only a last partial panel is packed. Otherwise op(B) is packed.
  /// (Long rows, some 4 KiB apart and aliasing in L1, are always packed.)
  let bInPlace: Bool
  /// How rows and columns are tiled for this machine's caches.
  let tiling: GEMMTiling

  init(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool, b: UnsafePointer<Float>, ldb: Int,
    transB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
  ) {
    (self.m, self.n, self.k) = (m, n, k)
    (self.a, self.lda, self.transA, self.b, self.ldb, self.transB) = (a, lda, transA, b, ldb, transB)
    (self.c, self.ldc, self.accumulate) = (c, ldc, accumulate)
    kernel = SIMDKernel.current
    nrMax = kernel.panelWidth
    panels = (n + nrMax - 1) / nrMax
    kBlocks = max(1, (k + gemmKC + gemmKC / 4 - 1) / (gemmKC + gemmKC / 4))
    kc0 = (k + kBlocks - 1) / kBlocks
    bInPlace = !transB && ldb <= 256
    tiling = GEMMTiling.current
  }

  /// Packs k-block `pb` of op(B)'s panels first..<first+count into `pack`, which holds those
  /// panels for every k-block: k-block pb at pack + pb*kc0*count*NR, panel jp at + (jp-first)*kc*NR.
  /// With `only`, just those of the panels (counted from `first`).
  func packBlock(
    _ pb: Int, first: Int, count: Int, into pack: UnsafeMutablePointer<Float>, only: Range<Int>? = nil
  ) {
    let pc = pb * kc0
    let kc = min(kc0, k - pc)
    let panels = only ?? 0..<count
    let j0 = (first + panels.lowerBound) * nrMax
    packB(
      kc: kc, nc: min(n, (first + panels.upperBound) * nrMax) - j0, width: nrMax,
      b: b + (transB ? j0 * ldb + pc : pc * ldb + j0), ldb: ldb, transB: transB,
      into: pack + pc * count * nrMax + panels.lowerBound * kc * nrMax)
  }

  /// Row block `rb` (of `rows` rows each) of C against panels p0..<p1 of op(B), whose packed
  /// copy `pack` holds `count` panels from panel `first` on (see `packBlock`), over k-blocks
  /// `kRange` (all by default; they must be run in order). With `fetchB`, the first row panel
  /// prefetches each B pair ahead of use (B comes from L2 or L3). A is read from `packedAll`
  /// when given (see `packAllA`; `rows` a multiple of 6). C's tiles go to C itself, or to a
  /// buffer `cOut` (the pointer to where C's element (0, 0) would be, and its row stride).
  func rowBlock(
    _ rb: Int, rows: Int, _ p0: Int, _ p1: Int, pack: UnsafePointer<Float>, first: Int, count: Int,
    fetchB: Bool, packedAll: UnsafePointer<Float>? = nil, kRange: Range<Int>? = nil,
    cOut: (UnsafeMutablePointer<Float>, Int)? = nil
  ) {
    let ic = rb * rows
    let mc = min(rows, m - ic)
    let (cBase, ldcOut) = cOut ?? (c, ldc)
    let fullRows = packedAll == nil ? mc - mc % gemmMR : mc
    // Full panels of A are read in place (the kernels take any row or column stride); only
    // the last partial panel is packed, zero-padded, into scratch asked for only then.
    let packedA = fullRows < mc ? Scratch.buffer(.packedA, count: gemmMR * kc0) : nil
    // Where panel `ir` of A starts, and its row and column strides; `allBlock` is the current
    // k-block of `packedAll`.
    @inline(__always) func aPanel(
      _ aBase: UnsafePointer<Float>, _ allBlock: UnsafePointer<Float>?, _ kc: Int, _ ir: Int
    ) -> (UnsafePointer<Float>, Int, Int) {
      if let allBlock { return (allBlock + (ic + ir) * kc, 1, gemmMR) }
      if ir >= fullRows { return (UnsafePointer(packedA!), 1, gemmMR) }
      let row = ic + ir
      return transA ? (aBase + row, 1, lda) : (aBase + row * lda, lda, 1)
    }
    for pb in (kRange ?? 0..<kBlocks) {
      let pc = pb * kc0
      let kc = min(kc0, k - pc)
      let add = accumulate || pc > 0
      let aBase = a + (transA ? pc * lda : pc)
      let allBlock = packedAll.map { $0 + pc * packedAllRows(m) }
      // Rows past the full panels are packed (zero-padded to a whole panel), so the kernel
      // never reads past A's rows.
      if let packedA {
        packA(
          mc: mc - fullRows, kc: kc, a: aBase + (transA ? ic + fullRows : (ic + fullRows) * lda), lda: lda,
          transA: transA, into: packedA)
      }
      let bBlock = pack + pc * count * nrMax
      // Panel jp of B for this k-block: in place (stride ldb) or packed (stride NR).
      @inline(__always) func bPanel(_ jp: Int) -> (UnsafePointer<Float>, Int) {
        let jr = jp * nrMax
        if bInPlace && jr + nrMax <= n { return (b + (pc * ldb + jr), ldb) }
        return (bBlock + (jp - first) * kc * nrMax, nrMax)
      }
      var jp = p0
      while jp < p1 {
        let jr = jp * nrMax
        let (left, bStride) = bPanel(jp)
        var ir = 0
        switch kernel {
        case .portable, .avx2:
          let nr = min(nrMax, n - jr)
          let run = kernel == .avx2 ? microKernel6x16 : microKernel6x8
          while ir < mc {
            let (ap, rs, cs) = aPanel(aBase, allBlock, kc, ir)
            let cTile = cBase + (ic + ir) * ldcOut + jr
            run(kc, ap, rs, cs, left, bStride, cTile, ldcOut, add, min(gemmMR, mc - ir), nr)
            ir += gemmMR
          }
        case .avx512:
          #if CNN_X86_NATIVE
            // Two panels of B at once (6×64) when they have the same stride.
            var pair = false
            var right = left
            if jp + 1 < p1 {
              let (r, rStride) = bPanel(jp + 1)
              pair = rStride == bStride
              right = r
            }
            let nr = min(pair ? 2 * nrMax : nrMax, n - jr)
            while ir < mc {
              let mr = min(gemmMR, mc - ir)
              let (ap, rs, cs) = aPanel(aBase, allBlock, kc, ir)
              let cTile = cBase + (ic + ir) * ldcOut + jr
              if pair {
                microKernel6x64(
                  kc, ap, rs, cs, left, right, bStride, cTile, ldcOut, add, mr, nr, prefetchB: fetchB && ir == 0)
              } else if kc >= gemm12MinKC && ir + 2 * gemmMR <= fullRows {
                // Two full panels of A at once over a k-block that is not too short.
                let bottom = aPanel(aBase, allBlock, kc, ir + gemmMR).0
                microKernel12x32(kc, ap, bottom, rs, cs, left, bStride, cTile, ldcOut, add, 2 * gemmMR, nr)
                ir += gemmMR
              } else {
                microKernel6x32(kc, ap, rs, cs, left, bStride, cTile, ldcOut, add, mr, nr)
              }
              ir += gemmMR
            }
            if pair { jp += 1 }
          #else
            preconditionFailure("the AVX-512 kernels are not in this build")
          #endif
        }
        jp += 1
      }
    }
  }
}

/// Shares a product between threads, both ways over the whole k range per task: large
/// products with packed B by column slices (`columnSlices`), others by row blocks against
/// one shared packed B (`sharedB`).
func gemmBlocked(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int, transA: Bool,
  b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool
) {
  let blocks = GEMMBlocks(
    m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB, c: c, ldc: ldc,
    accumulate: accumulate)
  let slicePanels = max(1, blocks.tiling.sliceColumns / blocks.nrMax)
  if parallel && !blocks.bInPlace && m >= 2 * blocks.tiling.taskRows && blocks.panels >= 8 * slicePanels {
    blocks.columnSlices(slicePanels: slicePanels)
  } else {
    blocks.sharedB(parallel: parallel)
  }
}

extension GEMMBlocks {
  /// Large products with packed B: all of op(A) is packed first (both threads), then tasks
  /// are slices of `tiling.sliceColumns` columns, at least 8 of them so that two threads share them evenly; each
  /// packs its own slice of op(B) (KC×NR panels, k-block by k-block) into its thread's
  /// scratch, where it stays in the core's L2 for all the slice's row blocks, and no thread
  /// waits for another's packing. Packed once into panels, each row block of A is one
  /// contiguous stream rather than rows lda apart that collide in L1 with the slice's B.
  func columnSlices(slicePanels: Int) {
    let packedAll = TensorStorage(count: packedAllRows(m) * k, zeroed: false)
    defer { withExtendedLifetime(packedAll) {} }  // keep it out of the pool until done
    packAllA(m: m, k: k, kc0: kc0, a: a, lda: lda, transA: transA, into: packedAll.pointer)
    let slices = (panels + slicePanels - 1) / slicePanels
    /// Slice `s`: its first panel and panel count.
    func slicePanelRange(_ s: Int) -> (first: Int, count: Int) {
      (s * slicePanels, min(panels, (s + 1) * slicePanels) - s * slicePanels)
    }
    /// Packs slice `s` of op(B), all k-blocks, into this thread's scratch.
    func packSlice(_ s: Int) -> UnsafeMutablePointer<Float> {
      let (first, count) = slicePanelRange(s)
      let pack = Scratch.buffer(.packedB, count: count * nrMax * k)
      for pb in 0..<kBlocks { packBlock(pb, first: first, count: count, into: pack) }
      return pack
    }
    if kernel == .avx2 {
      bufferedSlices(slices, slicePanelRange, packSlice, packedAll: packedAll.pointer)
      return
    }
    parallelFor(slices) { s in
      let (first, count) = slicePanelRange(s)
      let pack = packSlice(s)
      // Each k-block of B (held in L1) against all rows in blocks of `sliceRows`, then the
      // next; B was just packed by this thread and is in its L2, so no prefetching.
      let rows = tiling.sliceRows
      for pb in 0..<kBlocks {
        for rb in 0..<((m + rows - 1) / rows) {
          rowBlock(
            rb, rows: rows, first, first + count, pack: pack, first: first, count: count, fetchB: false,
            packedAll: packedAll.pointer, kRange: pb..<(pb + 1))
        }
      }
    }
  }

  /// The AVX2 order of the column slices: blocks of `tiling.sliceRowsAVX2` rows, each over all
  /// k-blocks, their C tiles summed in a contiguous buffer (rows 256 bytes apart rather than
  /// ldc, so the slice's C stays in L2 between k-blocks), then copied to C; the buffer starts
  /// from C's values when accumulating, so every sum is the same as without it. Each thread
  /// takes a slice, packs its B and runs its row blocks; once every slice is taken, it runs
  /// row blocks left in others' slices, reading their packed B (`SliceQueue`), so that a
  /// thread slowed by a neighbour does not leave the other idle at the end. Which thread runs
  /// a row block never changes what it computes.
  private func bufferedSlices(
    _ slices: Int, _ slicePanelRange: (Int) -> (first: Int, count: Int),
    _ packSlice: (Int) -> UnsafeMutablePointer<Float>, packedAll: UnsafePointer<Float>
  ) {
    let rows = tiling.sliceRowsAVX2
    /// Row block `rb` of slice `s`, whose packed B is `pack`, summed in this thread's buffer.
    func sliceRowBlock(_ s: Int, _ rb: Int, _ pack: UnsafePointer<Float>) {
      let (first, count) = slicePanelRange(s)
      let j0 = first * nrMax
      let cols = min(n, (first + count) * nrMax) - j0
      let ldBuffer = count * nrMax
      let buffer = Scratch.buffer(.productC, count: rows * ldBuffer)
      let ic = rb * rows
      let mc = min(rows, m - ic)
      if accumulate {
        for i in 0..<mc { (buffer + i * ldBuffer).update(from: c + (ic + i) * ldc + j0, count: cols) }
      }
      rowBlock(
        rb, rows: rows, first, first + count, pack: pack, first: first, count: count, fetchB: false,
        packedAll: packedAll, cOut: (buffer - ic * ldBuffer - j0, ldBuffer))
      for i in 0..<mc { (c + (ic + i) * ldc + j0).update(from: buffer + i * ldBuffer, count: cols) }
    }
    let queue = SliceQueue(slices: slices, rowBlocks: (m + rows - 1) / rows)
    parallelFor(Threads.count) { _ in
      while let s = queue.takeSlice() {
        let pack = packSlice(s)
        queue.packed(s, pack)
        while let rb = queue.takeRowBlock(of: s) { sliceRowBlock(s, rb, pack) }
      }
      while let (s, rb, pack) = queue.stealRowBlock() { sliceRowBlock(s, rb, pack) }
    }
  }

  /// One packed B, shared: all its panels, or only a last partial one when B's rows are read
  /// in place, in the calling thread's scratch; tasks of about `tiling.taskRows` rows (and, when rows are
  /// few, groups of panels) read it.
  func sharedB(parallel: Bool) {
    let first = bInPlace ? panels - 1 : 0
    let count = bInPlace ? (n % nrMax == 0 ? 0 : 1) : panels
    let packedB = Scratch.buffer(.packedB, count: count * nrMax * k)
    if count > 0 {
      if parallel && (kBlocks > 1 || count > 1) && k * n >= 1 << 16 {
        // Both threads pack: k-blocks, each cut into groups of panels when there are few
        // k-blocks (a dense layer's input gradient has one k-block of many panels).
        let perGroup = kBlocks >= 8 ? count : (count * kBlocks + 7) / 8
        let groups = (count + perGroup - 1) / perGroup
        parallelFor(kBlocks * groups) { t in
          let g = t % groups
          packBlock(
            t / groups, first: first, count: count, into: packedB,
            only: (g * perGroup)..<min(count, (g + 1) * perGroup))
        }
      } else {
        for pb in 0..<kBlocks { packBlock(pb, first: first, count: count, into: packedB) }
      }
    }
    // Row blocks of about `taskRows` rows in whole panels, an even number of them when split
    // over threads, so that neither thread gets one block more.
    let mc = tiling.taskRows
    var mcBlock = mc
    if parallel && m > 2 * mc {
      let evenBlocks = 2 * max(1, Int((Double(m) / Double(2 * mc)).rounded()))
      mcBlock = ((m + gemmMR - 1) / gemmMR + evenBlocks - 1) / evenBlocks * gemmMR
    }
    let mBlocks = (m + mcBlock - 1) / mcBlock
    // Few row blocks: split the columns too, so both threads get work (on one thread, never).
    // AVX-512 keeps panels in pairs for its 64-column kernel.
    let wantedGroups = !parallel || mBlocks >= 8 ? 1 : min(panels, max(1, 8 / mBlocks))
    let pairUp = kernel == .avx512 ? 2 : 1
    let panelsPerGroup = ((panels + wantedGroups - 1) / wantedGroups + pairUp - 1) / pairUp * pairUp
    let nGroups = (panels + panelsPerGroup - 1) / panelsPerGroup  // every group non-empty
    let tasks = mBlocks * nGroups
    let task: (Int) -> Void = { t in
      let p0 = (t % nGroups) * panelsPerGroup
      rowBlock(
        t / nGroups, rows: mcBlock, p0, min(panels, p0 + panelsPerGroup), pack: packedB, first: first,
        count: count, fetchB: true)
    }
    // Below about 2^18 multiply-adds, waking a second thread costs more than it saves.
    if parallel && tasks > 1 && m * n * k >= 1 << 18 {
      parallelFor(tasks, task)
    } else {
      for t in 0..<tasks { task(t) }
    }
  }
}
