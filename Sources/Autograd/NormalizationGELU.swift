import Tensors

// Batch normalisation then GELU as one op, for the fast recipe's blocks: the same values and
// gradients as `gelu(batchNormalization(x, ...))` to the bit, in fewer passes over memory.
// It keeps neither x̂ nor the GELU's input but recomputes both from x: forward, the
// statistics' two passes and one that writes the output; backward, one pass that writes the
// GELU's input gradient with the normalisation's sums, and one that writes dx.

/// GELU(batch normalisation of x): arguments as `batchNormalization`'s.
public func batchNormalizationGELU(
  _ x: Variable, gamma: Variable?, beta: Variable?, epsilon: Float,
  statistics: BatchStatistics? = nil, measured: ((BatchStatistics) -> Void)? = nil
) throws -> Variable {
  let plan = try NormalizationPlan(x, gamma, beta, epsilon, statistics, measured)
  let (c, rows) = (plan.c, plan.rows)
  let z = Tensor(uninitialized: x.shape)
  let (xp, zp) = (x.value.data, z.data)
  let affine = ChannelAffine(plan)
  parallelFor(normalizationChunks(rows)) { chunk in
    for r in normalizationRows(chunk, rows) {
      forEachRowLanes(c) { j, count in
        let y = affine.y(xp + r * c + j, j, count).y
        storeLanes(y * geluLanes(y).cdf, zp + r * c + j, count)
      }
    }
  }
  let batchStatistics = statistics == nil
  return makeOutput("batch_normalization_gelu", z, inputs: [x] + [gamma, beta].compactMap { $0 }) { dz in
    let dy = Tensor(uninitialized: x.shape)
    let sums = try ColumnSums(geluGradientSums(plan, affine, xp, dz.data, into: dy.data), plan.shards, c: c)
    let dx = Tensor(uninitialized: x.shape)
    let (dyp, dxp, m) = (dy.data, dx.data, plan.m)
    let (mean, invStd, g) = (plan.stats.mean, plan.invStd, plan.g)
    parallelFor(normalizationChunks(rows)) { chunk in
      for r in normalizationRows(chunk, rows) {
        for j in 0..<c {
          let i = r * c + j
          let h = (xp[i] - mean[j]) * invStd[j]
          dxp[i] =
            batchStatistics
            ? g[j] * invStd[j] / m * (m * dyp[i] - sums.dy[j] - h * sums.dyXhat[j])
            : g[j] * invStd[j] * dyp[i]
        }
      }
    }
    return try plan.gradients(dx, sums)
  }
}

/// The normalisation's per-channel constants side by side, read eight channels at a time.
private struct ChannelAffine: Sendable {
  private let storage: TensorStorage
  private let c: Int

  init(_ plan: NormalizationPlan) {
    c = plan.c
    storage = TensorStorage(count: 4 * c, zeroed: false)
    for (k, values) in [plan.stats.mean, plan.invStd, plan.g, plan.b].enumerated() {
      (storage.pointer + k * c).update(from: values, count: c)
    }
  }

  /// x̂ and y = γ x̂ + β for channels j..<j+count of the row at `x`, in the scalar op's order.
  @inline(__always) func y(_ x: UnsafePointer<Float>, _ j: Int, _ count: Int) -> (h: Lanes, y: Lanes) {
    let p = UnsafePointer(storage.pointer) + j
    let h = (loadLanes(x, count) - loadLanes(p, count)) * loadLanes(p + c, count)
    return (h, loadLanes(p + 2 * c, count) * h + loadLanes(p + 3 * c, count))
  }
}

/// Runs `body(j, count)` over a row's c channels, eight at a time (the last may be fewer).
@inline(__always) private func forEachRowLanes(_ c: Int, _ body: (Int, Int) -> Void) {
  var j = 0
  while j < c {
    body(j, Swift.min(8, c - j))
    j += 8
  }
}

/// dy = dz · GELU'(y) into `dy`, and per held shard Σ dy then Σ dy · x̂ in Double: the sums
/// `channelSums` makes of them, over the same chunks of rows in the same order.
private func geluGradientSums(
  _ plan: NormalizationPlan, _ affine: ChannelAffine, _ xp: UnsafePointer<Float>, _ dzp: UnsafePointer<Float>,
  into dyp: UnsafeMutablePointer<Float>
) -> [[Double]] {
  let c = plan.c
  let work = plan.shardRows.enumerated().flatMap { s, rows in (0..<normalizationChunks(rows.count)).map { (s, $0) } }
  let partial = UnsafeMutablePointer<Double>.allocate(capacity: work.count * 2 * c)
  defer { partial.deallocate() }
  partial.initialize(repeating: 0, count: work.count * 2 * c)
  parallelFor(work.count) { w in
    let (sumDy, sumDyH) = (partial + w * 2 * c, partial + w * 2 * c + c)
    let rows = plan.shardRows[work[w].0]
    let chunk = normalizationRows(work[w].1, rows.count)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { h in
      for r in (chunk.lowerBound + rows.lowerBound)..<(chunk.upperBound + rows.lowerBound) {
        let row = r * c
        forEachRowLanes(c) { j, count in
          let (hv, y) = affine.y(xp + row + j, j, count)
          let (cdf, pdf) = geluLanes(y)
          storeLanes(loadLanes(dzp + row + j, count) * (cdf + y * pdf), dyp + row + j, count)
          storeLanes(hv, h.baseAddress! + j, count)
        }
        for j in 0..<c {
          let d = Double(dyp[row + j])
          sumDy[j] += d
          sumDyH[j] += d * Double(h[j])
        }
      }
    }
  }
  var perShard = [[Double]](repeating: [Double](repeating: 0, count: 2 * c), count: plan.shardRows.count)
  for (w, (s, _)) in work.enumerated() {
    for j in 0..<(2 * c) { perShard[s][j] += partial[w * 2 * c + j] }
  }
  return perShard
}
