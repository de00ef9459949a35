import Foundation

// Matrix multiply: C[m×n] (+)= op(A)[m×k] · op(B)[k×n], all row-major.
// op(A)[i, p] is a[i*lda + p], or a[p*lda + i] when transA; likewise op(B)[p, j] is
// b[p*ldb + j], or b[j*ldb + p] when transB.
//
// `gemmReference` is the plain triple loop the fast kernel is tested against.
// `gemm` follows the BLIS structure: B is packed into KC×16 panels; A is read in place, six
// rows at a time (only a last partial panel is packed), and a 6×16 micro-kernel keeps 12
// SIMD8 accumulators in registers, using FMA.

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

@usableFromInline let gemmMR = 6
@usableFromInline let gemmNR = 16
@usableFromInline let gemmKC = 256
@usableFromInline let gemmMC = 120
@usableFromInline let gemmNC = 2048

/// Packing buffers, kept between calls so a training step allocates nothing here.
final class GEMMWorkspace {
  var packedB: UnsafeMutablePointer<Float>
  /// One edge panel (fewer than 6 rows of A, zero-padded) per worker.
  var packedA: [UnsafeMutablePointer<Float>]
  init(threads: Int) {
    packedB = GEMMWorkspace.allocate(gemmKC * gemmNC)
    packedA = (0..<threads).map { _ in GEMMWorkspace.allocate(gemmKC * gemmMR) }
  }
  static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(
      to: Float.self, capacity: n)
  }
  deinit {
    UnsafeMutableRawPointer(packedB).deallocate()
    for p in packedA { UnsafeMutableRawPointer(p).deallocate() }
  }
}

private let workspaceLock = NSLock()
nonisolated(unsafe) private var freeWorkspaces: [GEMMWorkspace] = []

private func takeWorkspace(threads: Int) -> GEMMWorkspace {
  workspaceLock.lock()
  defer { workspaceLock.unlock() }
  if let i = freeWorkspaces.firstIndex(where: { $0.packedA.count >= threads }) {
    return freeWorkspaces.remove(at: i)
  }
  return GEMMWorkspace(threads: threads)
}

private func returnWorkspace(_ w: GEMMWorkspace) {
  workspaceLock.lock()
  freeWorkspaces.append(w)
  workspaceLock.unlock()
}

/// The fast kernel: same contract as `gemmReference`.
public func gemm(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int, transA: Bool,
  b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
) {
  if m == 0 || n == 0 { return }
  if k == 0 {
    if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
    return
  }
  let threads = Threads.count
  let ws = takeWorkspace(threads: threads)
  defer { returnWorkspace(ws) }
  let packedB = ws.packedB
  var jc = 0
  while jc < n {
    let nc = min(gemmNC, n - jc)
    var pc = 0
    while pc < k {
      let kc = min(gemmKC, k - pc)
      packB(kc: kc, nc: nc, b: b + (transB ? jc * ldb + pc : pc * ldb + jc), ldb: ldb, transB: transB, into: packedB)
      let add = accumulate || pc > 0
      // Tasks: blocks of MC rows, and when there are few of them, groups of NR panels too.
      // The split depends on the shape only, never on the thread count.
      let mBlocks = (m + gemmMC - 1) / gemmMC
      let panels = (nc + gemmNR - 1) / gemmNR
      let nGroups = mBlocks >= 8 ? 1 : min(panels, max(1, 8 / mBlocks))
      let panelsPerGroup = (panels + nGroups - 1) / nGroups
      let tasks = mBlocks * nGroups
      let aBase = a + (transA ? pc * lda : pc)
      let workers = min(threads, tasks)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let edge = ws.packedA[w]
        var t = w
        while t < tasks {
          let mb = t / nGroups
          let g = t % nGroups
          let ic = mb * gemmMC
          let mc = min(gemmMC, m - ic)
          // Full 6-row panels are read from A in place; a last partial panel is packed
          // (zero-padded) so the kernel never reads past A's rows.
          let fullRows = mc - mc % gemmMR
          if fullRows < mc {
            packA(
              mc: mc - fullRows, kc: kc, a: aBase + (transA ? ic + fullRows : (ic + fullRows) * lda), lda: lda,
              transA: transA, into: edge)
          }
          let p0 = g * panelsPerGroup
          let p1 = min(panels, p0 + panelsPerGroup)
          var jp = p0
          while jp < p1 {
            let jr = jp * gemmNR
            let nr = min(gemmNR, nc - jr)
            let bPanel = packedB + jr * kc
            var ir = 0
            while ir < fullRows {
              let row = ic + ir
              microKernel6x16(
                kc, aBase + (transA ? row : row * lda), transA ? 1 : lda, transA ? lda : 1, bPanel,
                c + row * ldc + jc + jr, ldc, add, gemmMR, nr)
              ir += gemmMR
            }
            if fullRows < mc {
              microKernel6x16(
                kc, edge, 1, gemmMR, bPanel, c + (ic + fullRows) * ldc + jc + jr, ldc, add, mc - fullRows, nr)
            }
            jp += 1
          }
          t += workers
        }
      }
      pc += kc
    }
    jc += nc
  }
}

/// Packs op(B)[0..<kc, 0..<nc] into panels of 16 columns: panel j holds, for each p,
/// 16 consecutive values (zero beyond nc).
@inline(__always)
private func packB(
  kc: Int, nc: Int, b: UnsafePointer<Float>, ldb: Int, transB: Bool,
  into dst: UnsafeMutablePointer<Float>
) {
  var j0 = 0
  var out = dst
  while j0 < nc {
    let w = min(gemmNR, nc - j0)
    if !transB {
      if w == gemmNR {
        for p in 0..<kc {
          let src = UnsafeRawPointer(b + p * ldb + j0)
          let o = UnsafeMutableRawPointer(out + p * gemmNR)
          o.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
          o.storeBytes(
            of: src.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), toByteOffset: 32,
            as: SIMD8<Float>.self)
        }
      } else {
        for p in 0..<kc {
          let src = b + p * ldb + j0
          let o = out + p * gemmNR
          for j in 0..<w { o[j] = src[j] }
          for j in w..<gemmNR { o[j] = 0 }
        }
      }
    } else {
      for j in 0..<gemmNR {
        if j < w {
          let src = b + (j0 + j) * ldb
          for p in 0..<kc { out[p * gemmNR + j] = src[p] }
        } else {
          for p in 0..<kc { out[p * gemmNR + j] = 0 }
        }
      }
    }
    out += kc * gemmNR
    j0 += gemmNR
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
      for p in 0..<kc {
        let src = a + p * lda + i0
        let o = out + p * gemmMR
        for r in 0..<h { o[r] = src[r] }
        for r in h..<gemmMR { o[r] = 0 }
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

/// C[mr×nr] (+)= A[6×kc] · B-panel, where A's element (r, p) is a[r*rs + p*cs]: a packed
/// panel (rs 1, cs 6), or rows of A read in place (rs lda, cs 1; transposed: rs 1, cs lda).
/// Kept out of line: inlined, LLVM spills the twelve accumulators.
@inline(never)
func microKernel6x16(
  _ kc: Int, _ a: UnsafePointer<Float>, _ rs: Int, _ cs: Int, _ b: UnsafePointer<Float>,
  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ mr: Int, _ nr: Int
) {
  typealias V = SIMD8<Float>
  var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
  var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
  let a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs, a4 = a + 4 * rs, a5 = a + 5 * rs
  var bp = UnsafeRawPointer(b)
  var p = 0
  for _ in 0..<kc {
    let b0 = bp.load(as: V.self)
    let b1 = bp.load(fromByteOffset: 32, as: V.self)
    var av = V(repeating: a0[p])
    c00 = c00.addingProduct(av, b0)
    c01 = c01.addingProduct(av, b1)
    av = V(repeating: a1[p])
    c10 = c10.addingProduct(av, b0)
    c11 = c11.addingProduct(av, b1)
    av = V(repeating: a2[p])
    c20 = c20.addingProduct(av, b0)
    c21 = c21.addingProduct(av, b1)
    av = V(repeating: a3[p])
    c30 = c30.addingProduct(av, b0)
    c31 = c31.addingProduct(av, b1)
    av = V(repeating: a4[p])
    c40 = c40.addingProduct(av, b0)
    c41 = c41.addingProduct(av, b1)
    av = V(repeating: a5[p])
    c50 = c50.addingProduct(av, b0)
    c51 = c51.addingProduct(av, b1)
    p += cs
    bp += 64
  }
  if mr == gemmMR && nr == gemmNR {
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
      let src = f + r * gemmNR
      if accumulate {
        for j in 0..<nr { row[j] += src[j] }
      } else {
        for j in 0..<nr { row[j] = src[j] }
      }
    }
  }
}
