import Foundation
import Synchronization
import TensorsAVX512

// Matrix multiply: C[m×n] (+)= op(A)[m×k] · op(B)[k×n], all row-major.
// op(A)[i, p] is a[i*lda + p], or a[p*lda + i] when transA; likewise op(B)[p, j] is
// b[p*ldb + j], or b[j*ldb + p] when transB.
//
// `gemmReference` is the plain triple loop the fast kernel is tested against.
// `gemm` follows the BLIS structure: B is packed into KC×NR panels (or read in place when
// its rows are short); A is read in place six rows at a time (a last partial panel packed),
// or in large products packed whole into panels once; a 6×16 (AVX2) micro-kernel keeps 12
// accumulators in registers, using FMA. On AVX-512 a 6×32 kernel does the same, and 6×64
// and 12×32 ones (24 accumulators) take two B or two A panels at once. Threads share a
// product by rows, or, when it is large, by column slices that each pack their own part of
// B and read the packed A (`gemmBlocked`); on AVX2 a slice sums its C tiles in a contiguous
// buffer.

/// The plain reference kernel.
public func gemmReference(
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
/// k-block length: a 32-wide B panel of 128 rows is 16 KiB and stays in L1 beside A.
/// Measured on AVX-512: 1.3–2.5× faster than 256 on the seed model's weight-gradient and
/// input-gradient shapes; on AVX2 about even. Both kernels use the same blocking, which is
/// what keeps their results bit-identical.
@usableFromInline let gemmKC = 128
/// Rows of A per task.
@usableFromInline let gemmMC = 120
/// Rows of A per block in a column slice of a large product (see `gemmBlocked`).
@usableFromInline let gemmSliceMC = 36
/// The same for the AVX2 kernel, whose row blocks run over all of k (see `gemmBlocked`):
/// 72 to 216 measured alike on Zen 3; 108 rows of A are 63 KiB per k-block, in L2 beside the
/// slice's packed B.
@usableFromInline let gemmSliceRowsAVX2 = 108
/// Shortest k-block the AVX-512 12×32 kernel takes (shorter ones go to 6×32): measured
/// alone on one thread, it was 5–21% faster than 6×32 at k = 16 to 48 (conv1's forward has
/// k = 27); the choice made no difference on the k-blocks of 64 and 144 of conv2's chunks.
let gemm12MinKC = 16

/// The fast kernel: same contract as `gemmReference`.
///
/// Work is cut by shape alone (never by thread count) and every element of C is summed in
/// a fixed order, so results are bit-identical with any number of threads. With `parallel`
/// false the product runs on the calling thread (for callers that split work themselves).
public func gemm(
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

/// Two ways to share a product between threads, both over the whole k range per task:
/// - large products with packed B: all of op(A) is packed first (both threads), then tasks
///   are slices of 64 columns; each packs its own slice of op(B) (KC×NR panels, k-block by
///   k-block) into its thread's scratch, then runs each k-block against every block of
///   `gemmSliceMC` rows (AVX-512), or runs blocks of `gemmSliceRowsAVX2` rows over all k-blocks,
///   which a thread with no slice left may take over (AVX2, see `SliceQueue`);
/// - otherwise op(B) is packed once (unless its rows are read in place), then tasks of MC rows
///   (and, when rows are few, groups of NR-column panels) share it.
private func gemmBlocked(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int, transA: Bool,
  b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool
) {
  let kernel = SIMDKernel.current
  let nrMax = kernel.panelWidth
  let panels = (n + nrMax - 1) / nrMax
  // k-blocks of at most KC + KC/4, as even as possible (k = 288 stays one block).
  let kBlocks = max(1, (k + gemmKC + gemmKC / 4 - 1) / (gemmKC + gemmKC / 4))
  let kc0 = (k + kBlocks - 1) / kBlocks
  // Short, untransposed rows of B (kernels, gradients of narrow layers) are read in place,
  // NR columns at a time; only a last partial panel is packed. Otherwise op(B) is packed.
  // (Long rows, some 4 KiB apart and aliasing in L1, are always packed.)
  let bInPlace = !transB && ldb <= 256
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
  /// when given (see `packAllA`; `rows` a multiple of 6).
  func rowBlock(
    _ rb: Int, rows: Int, _ p0: Int, _ p1: Int, pack: UnsafePointer<Float>, first: Int, count: Int,
    fetchB: Bool, packedAll: UnsafePointer<Float>? = nil, kRange: Range<Int>? = nil,
    cOut: (UnsafeMutablePointer<Float>, Int)? = nil
  ) {
    let ic = rb * rows
    let mc = min(rows, m - ic)
    // Where C's tiles go: C itself, or a buffer (`cOut`: the pointer to where C's element
    // (0, 0) would be, and its row stride).
    let (cBase, ldcOut) = cOut ?? (c, ldc)
    let fullRows = packedAll == nil ? mc - mc % gemmMR : mc
    // Otherwise full panels of A are read in place (packing them per row block measured no
    // faster on any shape here, even with five B passes over them, once products ran on
    // per-thread scratch, nor on 1024³ with a fixed-stride kernel loop for packed A and B);
    // only the last partial panel is packed, into scratch asked for only then (the column
    // slices call this once per k-block and row block, with all of A already packed).
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
    var pb = kRange?.lowerBound ?? 0
    let pbEnd = kRange?.upperBound ?? kBlocks
    while pb < pbEnd {
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
        var pair = false
        var right = left
        if kernel == .avx512 && jp + 1 < p1 {
          let (r, rStride) = bPanel(jp + 1)
          pair = rStride == bStride
          right = r
        }
        let nr = min(pair ? 2 * nrMax : nrMax, n - jr)
        var ir = 0
        while ir < mc {
          let mr = min(gemmMR, mc - ir)
          let (ap, rs, cs) = aPanel(aBase, allBlock, kc, ir)
          let cTile = cBase + (ic + ir) * ldcOut + jr
          if pair {
            microKernel6x64(
              kc, ap, rs, cs, left, right, bStride, cTile, ldcOut, add, mr, nr, prefetchB: fetchB && ir == 0)
          } else if kernel == .avx512 && kc >= gemm12MinKC && ir + 2 * gemmMR <= fullRows {
            // AVX-512 takes two full panels of A at once over a k-block that is not too short.
            let bottom = aPanel(aBase, allBlock, kc, ir + gemmMR).0
            microKernel12x32(kc, ap, bottom, rs, cs, left, bStride, cTile, ldcOut, add, 2 * gemmMR, nr)
            ir += gemmMR
          } else if kernel == .avx512 {
            microKernel6x32(kc, ap, rs, cs, left, bStride, cTile, ldcOut, add, mr, nr)
          } else {
            microKernel6x16(kc, ap, rs, cs, left, bStride, cTile, ldcOut, add, mr, nr)
          }
          ir += gemmMR
        }
        jp += pair ? 2 : 1
      }
      pb += 1
    }
  }

  // Large products with packed B: column slices, each packing its own B (see above), at
  // least 8 of them so that two threads share them evenly. Each slice's B stays in its
  // core's L2 for all of its row blocks, and no thread waits for another's packing.
  let slicePanels = max(1, 64 / nrMax)
  if parallel && !bInPlace && m >= 2 * gemmMC && panels >= 8 * slicePanels {
    // Each slice reads all of A: packed once into panels, one contiguous stream per row
    // block, it measured about 5% faster on 1024³ (packing included) than its rows read in
    // place, which lie lda apart and collide in L1 with the slice's B.
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
      // Blocks of `gemmSliceRowsAVX2` rows, each over all k-blocks, their C tiles summed in a
      // contiguous buffer, then copied to C (starting from C's values when accumulating, so
      // every sum is the same as without the buffer). Measured on Zen 3 (512 KiB L2), in one
      // process alternating with the order below (same kernel): 12–17% faster on 1024³ with the
      // buffer, about 7% without. C's rows lie ldc apart, 4 KiB on 1024³, and the slice's C did not
      // stay in L2 between k-blocks; the buffer's rows are 256 bytes apart. (The last
      // k-block writing C directly, instead of the copy, measured 5% slower.)
      let rows = gemmSliceRowsAVX2
      /// Row block `rb` of slice `s`, whose packed B is `pack` (packed by whichever thread took
      /// the slice), summed in this thread's buffer.
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
          packedAll: packedAll.pointer, cOut: (buffer - ic * ldBuffer - j0, ldBuffer))
        for i in 0..<mc { (c + (ic + i) * ldc + j0).update(from: buffer + i * ldBuffer, count: cols) }
      }
      // Each thread takes a slice, packs its B and runs its row blocks; once every slice is
      // taken, a thread runs row blocks left in others' slices, reading their packed B. A
      // slice of a 1024³ product takes about 1.7 ms of its 14, so when whole slices were the
      // tasks, a thread slowed by a neighbour left the other idle at the end (traced on Zen 3:
      // the threads finished 0.55 ms apart in the median product, up to 1.7 ms). Measured in
      // one process alternating with whole-slice tasks: the median 1024³ product 0.6–4% faster,
      // the fastest ones alike. Which thread runs a row block never changes what it computes,
      // so there is one worker per thread.
      let queue = SliceQueue(slices: slices, rowBlocks: (m + rows - 1) / rows)
      parallelFor(Threads.count) { _ in
        while let s = queue.takeSlice() {
          let pack = packSlice(s)
          queue.packed(s, pack)
          while let rb = queue.takeRowBlock(of: s) { sliceRowBlock(s, rb, pack) }
        }
        while let (s, rb, pack) = queue.stealRowBlock() { sliceRowBlock(s, rb, pack) }
      }
      return
    }
    parallelFor(slices) { s in
      let (first, count) = slicePanelRange(s)
      let pack = packSlice(s)
      // Each k-block of B (a pair of panels, 37 KiB at KC 147, held in L1) against all rows,
      // then the next: 2-3% faster on 1024³ than all k-blocks per row block, where each
      // k-block served only 6 panels of A. The rows go in blocks of 36; B was just packed by
      // this thread and is in its L2, so no prefetching (both measured on 1024³: 4-9% faster
      // than blocks of 132 with prefetching, before this loop order).
      for pb in 0..<kBlocks {
        for rb in 0..<((m + gemmSliceMC - 1) / gemmSliceMC) {
          rowBlock(
            rb, rows: gemmSliceMC, first, first + count, pack: pack, first: first, count: count, fetchB: false,
            packedAll: packedAll.pointer, kRange: pb..<(pb + 1))
        }
      }
    }
    return
  }

  // Otherwise one packed B, shared: all its panels, or only a last partial one when B's rows
  // are read in place. The calling thread's scratch; the tasks below only read it.
  let first = bInPlace ? panels - 1 : 0
  let count = bInPlace ? (n % nrMax == 0 ? 0 : 1) : panels
  let packedB = Scratch.buffer(.packedB, count: count * nrMax * k)
  if count > 0 {
    if parallel && (kBlocks > 1 || count > 1) && k * n >= 1 << 16 {
      // Both threads pack: k-blocks, each cut into groups of panels when there are few
      // k-blocks (dense layers' input gradient, 64 × 2304 transposed, was packed by one
      // thread while the other waited, most of that product's time).
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
  // Row blocks of about MC rows in whole panels. Split over threads, an even number of them:
  // 1024 rows in 9 blocks of 120 left one thread 5 blocks and the other 4.
  var mcBlock = gemmMC
  if parallel && m > 2 * gemmMC {
    let evenBlocks = 2 * max(1, Int((Double(m) / Double(2 * gemmMC)).rounded()))
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
      t / nGroups, rows: mcBlock, p0, min(panels, p0 + panelsPerGroup), pack: packedB, first: first, count: count,
      fetchB: true)
  }
  // Below about 2^18 multiply-adds, waking a second thread costs more than it saves.
  if parallel && tasks > 1 && m * n * k >= 1 << 18 {
    parallelFor(tasks, task)
  } else {
    for t in 0..<tasks { task(t) }
  }
}

/// Packs op(B)[0..<kc, 0..<nc] into panels of `width` columns (the micro-kernel's): panel j
/// holds, for each p, `width` consecutive values (zero beyond nc).
@inline(__always)
private func packB(
  kc: Int, nc: Int, width: Int, b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  into dst: UnsafeMutablePointer<Float>
) {
  var j0 = 0
  var out = dst
  while j0 < nc {
    let w = min(width, nc - j0)
    if !transB {
      for p in 0..<kc {
        let src = b + p * ldb + j0
        // Rows of B lie ldb apart, too far for the hardware prefetcher: ask for the row 16
        // ahead (measured 3-9% faster on 1024³ on two threads, where both cores pack at once).
        let ahead = UnsafeRawPointer(src + 16 * ldb)
        prefetch(ahead)
        prefetch(ahead + 64)
        let o = out + p * width
        copyFloats(o, src, w)
        if w < width { (o + w).update(repeating: 0, count: width - w) }
      }
    } else {
      // Row p of the panel gathers element p of `w` rows of B: 8×8 blocks transposed in
      // registers, the edges one float at a time.
      let fullJ = w - w % 8
      let fullP = kc - kc % 8
      var jj = 0
      while jj < fullJ {
        var p = 0
        while p < fullP {
          transpose8x8(b + (j0 + jj) * ldb + p, ldb, out + p * width + jj, width)
          p += 8
        }
        for p in fullP..<kc {
          for j in jj..<(jj + 8) { out[p * width + j] = b[(j0 + j) * ldb + p] }
        }
        jj += 8
      }
      for p in 0..<kc {
        let o = out + p * width
        for j in fullJ..<w { o[j] = b[(j0 + j) * ldb + p] }
        if w < width { (o + w).update(repeating: 0, count: width - w) }
      }
    }
    out += kc * width
    j0 += width
  }
}

/// dst[cols×rows] = transpose of src[rows×cols], both row-major: 8×8 blocks in registers,
/// the edges one by one.
public func transpose(
  _ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>
) {
  let fullRows = rows / 8 * 8
  let fullCols = cols / 8 * 8
  for i in stride(from: 0, to: fullRows, by: 8) {
    for j in stride(from: 0, to: fullCols, by: 8) { transpose8x8(src + i * cols + j, cols, dst + j * rows + i, rows) }
    for j in fullCols..<cols { for r in i..<(i + 8) { dst[j * rows + r] = src[r * cols + j] } }
  }
  for i in fullRows..<rows { for j in 0..<cols { dst[j * rows + i] = src[i * cols + j] } }
}

/// dst[q*ldd + i] = src[i*lds + q] for an 8×8 block.
@inline(__always)
func transpose8x8(_ src: UnsafePointer<Float>, _ lds: Int, _ dst: UnsafeMutablePointer<Float>, _ ldd: Int) {
  typealias V = SIMD8<Float>
  let s = UnsafeRawPointer(src)
  let (r0, r1, r2, r3, r4, r5, r6, r7) = transposed8x8(
    s.loadUnaligned(as: V.self), s.loadUnaligned(fromByteOffset: lds * 4, as: V.self),
    s.loadUnaligned(fromByteOffset: 2 * lds * 4, as: V.self), s.loadUnaligned(fromByteOffset: 3 * lds * 4, as: V.self),
    s.loadUnaligned(fromByteOffset: 4 * lds * 4, as: V.self), s.loadUnaligned(fromByteOffset: 5 * lds * 4, as: V.self),
    s.loadUnaligned(fromByteOffset: 6 * lds * 4, as: V.self), s.loadUnaligned(fromByteOffset: 7 * lds * 4, as: V.self))
  let d = UnsafeMutableRawPointer(dst)
  d.storeBytes(of: r0, as: V.self)
  d.storeBytes(of: r1, toByteOffset: ldd * 4, as: V.self)
  d.storeBytes(of: r2, toByteOffset: 2 * ldd * 4, as: V.self)
  d.storeBytes(of: r3, toByteOffset: 3 * ldd * 4, as: V.self)
  d.storeBytes(of: r4, toByteOffset: 4 * ldd * 4, as: V.self)
  d.storeBytes(of: r5, toByteOffset: 5 * ldd * 4, as: V.self)
  d.storeBytes(of: r6, toByteOffset: 6 * ldd * 4, as: V.self)
  d.storeBytes(of: r7, toByteOffset: 7 * ldd * 4, as: V.self)
}

/// The transpose of eight rows of eight lanes: lane q of the result's row i is lane i of
/// row q. Three rounds of splitting each pair of rows into even and odd lanes rotate the
/// 6-bit element index (row, lane) right by one bit each; after three the row and lane bits
/// have swapped places, which is the transpose.
@inline(__always)
func transposed8x8(
  _ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
  _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
  typealias V = SIMD8<Float>
  var (r0, r1, r2, r3, r4, r5, r6, r7) = (r0, r1, r2, r3, r4, r5, r6, r7)
  for _ in 0..<3 {
    (r0, r1, r2, r3, r4, r5, r6, r7) = (
      V(lowHalf: r0.evenHalf, highHalf: r1.evenHalf), V(lowHalf: r2.evenHalf, highHalf: r3.evenHalf),
      V(lowHalf: r4.evenHalf, highHalf: r5.evenHalf), V(lowHalf: r6.evenHalf, highHalf: r7.evenHalf),
      V(lowHalf: r0.oddHalf, highHalf: r1.oddHalf), V(lowHalf: r2.oddHalf, highHalf: r3.oddHalf),
      V(lowHalf: r4.oddHalf, highHalf: r5.oddHalf), V(lowHalf: r6.oddHalf, highHalf: r7.oddHalf)
    )
  }
  return (r0, r1, r2, r3, r4, r5, r6, r7)
}

/// Rows of A once packed in whole panels of 6 (see `packAllA`).
@inline(__always)
private func packedAllRows(_ m: Int) -> Int { (m + gemmMR - 1) / gemmMR * gemmMR }

/// Packs all of op(A) (m×k) in k-blocks of `kc0`: k-block pb at dst + pb*kc0*R (R =
/// `packedAllRows(m)`), and within it the panel of rows i..<i+6 at + i*kc, as `packA` lays
/// it out. Both threads share the work in groups of 8 panels, each over all of k, so that
/// every row of A is read as one long stream the hardware prefetcher follows.
private func packAllA(
  m: Int, k: Int, kc0: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool,
  into dst: UnsafeMutablePointer<Float>
) {
  let rowsPadded = packedAllRows(m)
  let groupRows = 8 * gemmMR
  let groups = (m + groupRows - 1) / groupRows
  let kBlocks = (k + kc0 - 1) / kc0
  parallelFor(groups) { g in
    let i0 = g * groupRows
    for pb in 0..<kBlocks {
      let pc = pb * kc0
      let kc = min(kc0, k - pc)
      packA(
        mc: min(m, i0 + groupRows) - i0, kc: kc, a: a + (transA ? pc * lda + i0 : i0 * lda + pc), lda: lda,
        transA: transA, into: dst + pc * rowsPadded + i0 * kc)
    }
  }
}

/// Packs op(A)[0..<mc, 0..<kc] into panels of 6 rows: panel i holds, for each p,
/// 6 consecutive values (zero beyond mc).
@inline(__always)
private func packA(
  mc: Int, kc: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool,
  into dst: UnsafeMutablePointer<Float>
) {
  var i0 = 0
  var out = dst
  while i0 < mc {
    let h = min(gemmMR, mc - i0)
    if transA {
      // Row p of op(A)ᵀ holds the panel's h values side by side. A panel short of rows is
      // zeroed in one go first: zeroing its few slots per p compiled to a memset call per p,
      // which with the copying took a third of conv1's weight gradient (m = 27).
      if h < gemmMR { out.update(repeating: 0, count: kc * gemmMR) }
      for p in 0..<kc {
        let src = a + p * lda + i0
        let o = out + p * gemmMR
        o[0] = src[0]
        if h > 1 { o[1] = src[1] }
        if h > 2 { o[2] = src[2] }
        if h > 3 { o[3] = src[3] }
        if h > 4 { o[4] = src[4] }
        if h > 5 { o[5] = src[5] }
      }
    } else if h == gemmMR && kc > 8 {
      // Eight columns of the six rows at a time, transposed in registers (`transposed8x8`,
      // rows 6 and 7 zero). Column q's 8 lanes are stored at its 6-float slot;
      // the next column overwrites the 2 extra. The last columns go one by one, so nothing is
      // written past the panel.
      typealias V = SIMD8<Float>
      let src = UnsafeRawPointer(a + i0 * lda)
      let fullP = (kc - 1) / 8 * 8
      var p = 0
      while p < fullP {
        let (r0, r1, r2, r3, r4, r5, r6, r7) = transposed8x8(
          src.loadUnaligned(fromByteOffset: p * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (2 * lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (3 * lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (4 * lda + p) * 4, as: V.self),
          src.loadUnaligned(fromByteOffset: (5 * lda + p) * 4, as: V.self), V(), V())
        let d = UnsafeMutableRawPointer(out + p * gemmMR)
        let slot = gemmMR * 4
        d.storeBytes(of: r0, as: V.self)
        d.storeBytes(of: r1, toByteOffset: slot, as: V.self)
        d.storeBytes(of: r2, toByteOffset: 2 * slot, as: V.self)
        d.storeBytes(of: r3, toByteOffset: 3 * slot, as: V.self)
        d.storeBytes(of: r4, toByteOffset: 4 * slot, as: V.self)
        d.storeBytes(of: r5, toByteOffset: 5 * slot, as: V.self)
        d.storeBytes(of: r6, toByteOffset: 6 * slot, as: V.self)
        d.storeBytes(of: r7, toByteOffset: 7 * slot, as: V.self)
        p += 8
      }
      for p in fullP..<kc {
        for r in 0..<gemmMR { out[p * gemmMR + r] = src.load(fromByteOffset: (r * lda + p) * 4, as: Float.self) }
      }
    } else {
      for r in 0..<gemmMR {
        if r < h {
          let src = a + (i0 + r) * lda
          for p in 0..<kc { out[p * gemmMR + r] = src[p] }
        } else {
          for p in 0..<kc { out[p * gemmMR + r] = 0 }
        }
      }
    }
    out += kc * gemmMR
    i0 += gemmMR
  }
}

/// C[mr×nr] (+)= A[6×kc] · B[kc×16], where A's element (r, p) is a[r*rs + p*cs]: a packed
/// panel (rs 1, cs 6), or rows of A read in place (rs lda, cs 1; transposed: rs 1, cs lda;
/// one of rs and cs must be 1);
/// and B's row p is the 16 floats at b + p*bs (a packed panel: bs 16; in place: bs ldb).
/// Kept out of line: inlined, LLVM spills the twelve accumulators. Its AVX-512 twin,
/// `microKernel6x32` in TensorsAVX512, does the same for another register width (it must be
/// compiled with other flags), in one step per turn: change both together, keeping the same
/// FMAs in the same order.
@inline(never)
func microKernel6x16(
  _ kc: Int, _ a: UnsafePointer<Float>, _ rs: Int, _ cs: Int, _ b: UnsafePointer<Float>, _ bs: Int,
  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ mr: Int, _ nr: Int
) {
  typealias V = SIMD8<Float>
  var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
  var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
  var bp = UnsafeRawPointer(b)
  let bStep = bs * 4
  // Every panel of A here has rs 1 or cs 1. Both loops take four steps per turn with fixed
  // offsets: measured alone on Zen 3 with the data in L1, 6-17% faster than one step per
  // turn with both strides variable (packed A), and 2-9% faster with rows in place; in
  // training steps, 9-10% faster.
  /// Step `o` of the turn: B's row o against the six values of A at `column(r)`.
  @inline(__always) func step(_ o: Int, _ column: (Int) -> Float) {
    let b0 = bp.loadUnaligned(fromByteOffset: o * bStep, as: V.self)
    let b1 = bp.loadUnaligned(fromByteOffset: o * bStep + 32, as: V.self)
    var av = V(repeating: column(0))
    c00 = c00.addingProduct(av, b0)
    c01 = c01.addingProduct(av, b1)
    av = V(repeating: column(1))
    c10 = c10.addingProduct(av, b0)
    c11 = c11.addingProduct(av, b1)
    av = V(repeating: column(2))
    c20 = c20.addingProduct(av, b0)
    c21 = c21.addingProduct(av, b1)
    av = V(repeating: column(3))
    c30 = c30.addingProduct(av, b0)
    c31 = c31.addingProduct(av, b1)
    av = V(repeating: column(4))
    c40 = c40.addingProduct(av, b0)
    c41 = c41.addingProduct(av, b1)
    av = V(repeating: column(5))
    c50 = c50.addingProduct(av, b0)
    c51 = c51.addingProduct(av, b1)
  }
  /// A's six values of a step lie side by side, steps `stride` apart: a packed panel (stride
  /// 6, a constant once inlined) or transposed A read in place (stride lda).
  @inline(__always) func sideBySide(_ stride: Int) {
    var ap = a
    var p = 0
    while p + 4 <= kc {
      step(0) { ap[$0] }
      step(1) { ap[stride + $0] }
      step(2) { ap[2 * stride + $0] }
      step(3) { ap[3 * stride + $0] }
      ap += 4 * stride
      bp += 4 * bStep
      p += 4
    }
    while p < kc {
      step(0) { ap[$0] }
      ap += stride
      bp += bStep
      p += 1
    }
  }
  if rs == 1 && cs == gemmMR {
    sideBySide(gemmMR)
  } else if rs == 1 {
    sideBySide(cs)
  } else {
    // Six rows of A read in place, rs apart (cs is 1).
    var p = 0
    while p + 4 <= kc {
      step(0) { a[$0 * rs + p] }
      step(1) { a[$0 * rs + p + 1] }
      step(2) { a[$0 * rs + p + 2] }
      step(3) { a[$0 * rs + p + 3] }
      bp += 4 * bStep
      p += 4
    }
    while p < kc {
      step(0) { a[$0 * rs + p] }
      bp += bStep
      p += 1
    }
  }
  if mr == gemmMR && nr == 16 {
    @inline(__always) func store(_ row: Int, _ lo: V, _ hi: V) {
      let p = UnsafeMutableRawPointer(c + row * ldc)
      if accumulate {
        p.storeBytes(of: p.loadUnaligned(as: V.self) + lo, as: V.self)
        p.storeBytes(
          of: p.loadUnaligned(fromByteOffset: 32, as: V.self) + hi, toByteOffset: 32, as: V.self)
      } else {
        p.storeBytes(of: lo, as: V.self)
        p.storeBytes(of: hi, toByteOffset: 32, as: V.self)
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
    t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21
    t[6] = c30; t[7] = c31; t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51
    let f = UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self)
    for r in 0..<mr {
      let row = c + r * ldc
      let src = f + r * 16
      if accumulate {
        for j in 0..<nr { row[j] += src[j] }
      } else {
        for j in 0..<nr { row[j] = src[j] }
      }
    }
  }
}

/// Thread time spent inside `gemm` (wall time × the threads it ran on), for `cnn bench`'s
/// account of a training step. Off unless `enabled`; reading it costs one flag per call.
package enum GEMMClock {
  nonisolated(unsafe) package static var enabled = false
  private static let nanoseconds = Atomic<UInt64>(0)

  static func add(_ ns: UInt64) { _ = nanoseconds.wrappingAdd(ns, ordering: .relaxed) }

  /// The total so far, in seconds; `reset` sets it to 0.
  package static var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
  package static func reset() { nanoseconds.store(0, ordering: .relaxed) }
}
