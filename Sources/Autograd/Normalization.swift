import Foundation
import Tensors

// Batch normalisation over the last axis (channels) of any input: every other axis is a
// sample of the channel's statistics. Sums run shard by shard (`BatchShards`), each shard's
// over fixed chunks of rows, each chunk's sum in Double, the chunks added in order, and the
// shards' sums as a tree: the same results with any number of threads or processes, the
// statistics always those of the whole batch.

/// Rows per chunk of the statistics' sums.
let normalizationChunkRows = 512

/// What a batch-normalisation forward pass measured: the batch's mean and (biased) variance
/// per channel, for the layer's moving statistics.
public struct BatchStatistics {
  public let mean: [Float]
  public let variance: [Float]

  public init(mean: [Float], variance: [Float]) {
    self.mean = mean
    self.variance = variance
  }
}

/// y = γ · (x − mean) / √(variance + ε) + β per channel (the last axis). With `statistics` nil
/// the batch's own mean and biased variance are used and returned through `measured` (training);
/// otherwise the given ones (inference: the moving statistics). `gamma` and `beta` may be nil
/// (scale 1, offset 0).
public func batchNormalization(
  _ x: Variable, gamma: Variable?, beta: Variable?, epsilon: Float,
  statistics: BatchStatistics? = nil, measured: ((BatchStatistics) -> Void)? = nil
) throws -> Variable {
  guard let c = x.shape.last, c > 0, x.value.count > 0 else {
    throw TensorError("batch normalisation needs a non-empty input with channels last, got \(x.shape)")
  }
  for p in [gamma, beta].compactMap({ $0 }) where p.shape != [c] {
    throw TensorError("batch normalisation: gamma and beta need shape [\(c)], got \(p.shape)")
  }
  let rows = x.value.count / c
  let shards = try BatchShards.of(x)
  let perImage = rows / Swift.max(1, shards.localSize)
  let shardRows = shards.ranges.map { ($0.lowerBound * perImage)..<($0.upperBound * perImage) }
  let m = Float(shards.globalSize * perImage)
  let stats = try statistics ?? measure(x.value, shardRows, shards, count: Double(m), c: c)
  if statistics == nil { measured?(stats) }
  let invStd = stats.variance.map { 1 / ($0 + epsilon).squareRoot() }
  let xhat = Tensor(uninitialized: x.shape)
  let y = Tensor(uninitialized: x.shape)
  let g = gamma.map { $0.value.scalars } ?? [Float](repeating: 1, count: c)
  let b = beta.map { $0.value.scalars } ?? [Float](repeating: 0, count: c)
  let (xp, hp, yp) = (x.value.data, xhat.data, y.data)
  parallelFor(chunks(rows)) { chunk in
    for r in rowRange(chunk, rows) {
      for j in 0..<c {
        let h = (xp[r * c + j] - stats.mean[j]) * invStd[j]
        hp[r * c + j] = h
        yp[r * c + j] = g[j] * h + b[j]
      }
    }
  }
  let batchStatistics = statistics == nil
  return makeOutput("batch_normalization", y, inputs: [x] + [gamma, beta].compactMap { $0 }) { dy in
    let sums = try columnSums(dy, times: xhat, shardRows, shards, c: c)
    let dx = Tensor(uninitialized: x.shape)
    let (dyp, dxp, hp) = (dy.data, dx.data, xhat.data)
    parallelFor(chunks(rows)) { chunk in
      for r in rowRange(chunk, rows) {
        for j in 0..<c {
          let i = r * c + j
          dxp[i] =
            batchStatistics
            ? g[j] * invStd[j] / m * (m * dyp[i] - sums.dy[j] - hp[i] * sums.dyXhat[j])
            : g[j] * invStd[j] * dyp[i]
        }
      }
    }
    var grads: [Tensor?] = [dx]
    if gamma != nil { grads.append(try Tensor(shape: [c], values: sums.heldDyXhat)) }
    if beta != nil { grads.append(try Tensor(shape: [c], values: sums.heldDy)) }
    return grads
  }
}

private func chunks(_ rows: Int) -> Int { (rows + normalizationChunkRows - 1) / normalizationChunkRows }

private func rowRange(_ chunk: Int, _ rows: Int) -> Range<Int> {
  (chunk * normalizationChunkRows)..<Swift.min(rows, (chunk + 1) * normalizationChunkRows)
}

/// Per-channel sums over each held shard's rows, chunk by chunk (each chunk's in Double), the
/// chunks added in order: Σ (a − center), or with `b`, Σ (a − center) · b, or with `square`,
/// Σ (a − center)²; one row per shard.
private func channelSums(
  _ a: UnsafePointer<Float>, times b: UnsafePointer<Float>? = nil, square: Bool = false, center: [Double]? = nil,
  _ shardRows: [Range<Int>], c: Int
) -> [[Double]] {
  // (shard, chunk within it) pairs, in order.
  let work = shardRows.enumerated().flatMap { s, rows in (0..<chunks(rows.count)).map { (s, $0) } }
  let partial = UnsafeMutablePointer<Double>.allocate(capacity: work.count * c)
  defer { partial.deallocate() }
  partial.initialize(repeating: 0, count: work.count * c)
  let shift = center ?? [Double](repeating: 0, count: c)
  shift.withUnsafeBufferPointer { m in
    parallelFor(work.count) { w in
      let sum = partial + w * c
      let rows = shardRows[work[w].0]
      let chunk = rowRange(work[w].1, rows.count)
      for r in (chunk.lowerBound + rows.lowerBound)..<(chunk.upperBound + rows.lowerBound) {
        let (ar, br) = (a + r * c, b.map { $0 + r * c })
        if let br {
          for j in 0..<c { sum[j] += (Double(ar[j]) - m[j]) * Double(br[j]) }
        } else if square {
          for j in 0..<c {
            let d = Double(ar[j]) - m[j]
            sum[j] += d * d
          }
        } else {
          for j in 0..<c { sum[j] += Double(ar[j]) - m[j] }
        }
      }
    }
  }
  var perShard = [[Double]](repeating: [Double](repeating: 0, count: c), count: shardRows.count)
  for (w, (s, _)) in work.enumerated() {
    for j in 0..<c { perShard[s][j] += partial[w * c + j] }
  }
  return perShard
}

/// The batch's mean and biased variance per channel (two passes) over `count` rows.
private func measure(_ x: Tensor, _ shardRows: [Range<Int>], _ shards: BatchShards, count: Double, c: Int) throws
  -> BatchStatistics
{
  let mean = try shards.total(channelSums(x.data, shardRows, c: c)).map { $0 / count }
  let variance = try shards.total(channelSums(x.data, square: true, center: mean, shardRows, c: c)).map {
    Float($0 / count)
  }
  return BatchStatistics(mean: mean.map { Float($0) }, variance: variance)
}

/// Σ dy and Σ dy · x̂ per channel: over the whole batch (for the input's gradient), and for
/// γ's and β's gradients each shard's in Float, added as the tree of the held shards, as
/// every parameter's gradient is (the group adds the rest).
private func columnSums(_ dy: Tensor, times xhat: Tensor, _ shardRows: [Range<Int>], _ shards: BatchShards, c: Int)
  throws -> (dy: [Float], dyXhat: [Float], heldDy: [Float], heldDyXhat: [Float])
{
  let perShard = zip(channelSums(dy.data, shardRows, c: c), channelSums(dy.data, times: xhat.data, shardRows, c: c))
    .map { $0 + $1 }
  let all = try shards.total(perShard).map { Float($0) }
  let held = treeSum(perShard.map { $0.map { Float($0) } })
  return (Array(all[..<c]), Array(all[c...]), Array(held[..<c]), Array(held[c...]))
}

/// y = x · scale + shift per channel (the last axis), constants; dx = dy · scale.
public func channelAffine(_ x: Variable, scale: [Float], shift: [Float]) throws -> Variable {
  guard let c = x.shape.last, c == scale.count, c == shift.count else {
    throw TensorError("a per-channel affine map of \(scale.count) channels cannot take an input of shape \(x.shape)")
  }
  let y = Tensor(uninitialized: x.shape)
  let (xp, yp, rows) = (x.value.data, y.data, x.value.count / Swift.max(c, 1))
  parallelFor(chunks(rows)) { chunk in
    for r in rowRange(chunk, rows) {
      for j in 0..<c { yp[r * c + j] = xp[r * c + j] * scale[j] + shift[j] }
    }
  }
  return makeOutput("normalization", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: dy.shape)
    let (dyp, dxp) = (dy.data, dx.data)
    parallelFor(chunks(rows)) { chunk in
      for r in rowRange(chunk, rows) {
        for j in 0..<c { dxp[r * c + j] = dyp[r * c + j] * scale[j] }
      }
    }
    return [dx]
  }
}
