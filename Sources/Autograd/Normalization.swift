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
  let plan = try NormalizationPlan(x, gamma, beta, epsilon, statistics, measured)
  let (c, rows, m, invStd, g, b) = (plan.c, plan.rows, plan.m, plan.invStd, plan.g, plan.b)
  let mean = plan.stats.mean
  let xhat = Tensor(uninitialized: x.shape)
  let y = Tensor(uninitialized: x.shape)
  let (xp, hp, yp) = (x.value.data, xhat.data, y.data)
  parallelFor(normalizationChunks(rows)) { chunk in
    for r in normalizationRows(chunk, rows) {
      for j in 0..<c {
        let h = (xp[r * c + j] - mean[j]) * invStd[j]
        hp[r * c + j] = h
        yp[r * c + j] = g[j] * h + b[j]
      }
    }
  }
  let batchStatistics = statistics == nil
  return makeOutput("batch_normalization", y, inputs: [x] + [gamma, beta].compactMap { $0 }) { dy in
    let sums = try columnSums(dy, times: xhat, plan.shardRows, plan.shards, c: c)
    let dx = Tensor(uninitialized: x.shape)
    let (dyp, dxp, hp) = (dy.data, dx.data, xhat.data)
    parallelFor(normalizationChunks(rows)) { chunk in
      for r in normalizationRows(chunk, rows) {
        for j in 0..<c {
          let i = r * c + j
          dxp[i] =
            batchStatistics
            ? g[j] * invStd[j] / m * (m * dyp[i] - sums.dy[j] - hp[i] * sums.dyXhat[j])
            : g[j] * invStd[j] * dyp[i]
        }
      }
    }
    return try plan.gradients(dx, sums)
  }
}

/// What the batch-normalisation ops share: the checked shapes, the shards' rows, the
/// statistics (the batch's, measured, or those given), 1/√(variance + ε), and γ and β (1 and
/// 0 where absent).
struct NormalizationPlan {
  let c: Int, rows: Int
  /// The rows of the whole batch, over every process.
  let m: Float
  let shards: BatchShards
  let shardRows: [Range<Int>]
  let stats: BatchStatistics
  let invStd: [Float], g: [Float], b: [Float]
  let hasGamma: Bool, hasBeta: Bool

  init(
    _ x: Variable, _ gamma: Variable?, _ beta: Variable?, _ epsilon: Float, _ statistics: BatchStatistics?,
    _ measured: ((BatchStatistics) -> Void)?
  ) throws {
    guard let c = x.shape.last, c > 0, x.value.count > 0 else {
      throw TensorError("batch normalisation needs a non-empty input with channels last, got \(x.shape)")
    }
    for p in [gamma, beta].compactMap({ $0 }) where p.shape != [c] {
      throw TensorError("batch normalisation: gamma and beta need shape [\(c)], got \(p.shape)")
    }
    self.c = c
    rows = x.value.count / c
    shards = try BatchShards.of(x)
    let perImage = rows / Swift.max(1, shards.localSize)
    shardRows = shards.ranges.map { ($0.lowerBound * perImage)..<($0.upperBound * perImage) }
    m = Float(shards.globalSize * perImage)
    stats = try statistics ?? measure(x.value, shardRows, shards, count: Double(m), c: c)
    if statistics == nil { measured?(stats) }
    invStd = stats.variance.map { 1 / ($0 + epsilon).squareRoot() }
    g = gamma.map { $0.value.scalars } ?? [Float](repeating: 1, count: c)
    b = beta.map { $0.value.scalars } ?? [Float](repeating: 0, count: c)
    (hasGamma, hasBeta) = (gamma != nil, beta != nil)
  }

  /// The gradients in the op's input order: dx, then γ's and β's where they are inputs.
  func gradients(_ dx: Tensor, _ sums: ColumnSums) throws -> [Tensor?] {
    var grads: [Tensor?] = [dx]
    if hasGamma { grads.append(try Tensor(shape: [c], values: sums.heldDyXhat)) }
    if hasBeta { grads.append(try Tensor(shape: [c], values: sums.heldDy)) }
    return grads
  }
}

func normalizationChunks(_ rows: Int) -> Int { (rows + normalizationChunkRows - 1) / normalizationChunkRows }

func normalizationRows(_ chunk: Int, _ rows: Int) -> Range<Int> {
  (chunk * normalizationChunkRows)..<Swift.min(rows, (chunk + 1) * normalizationChunkRows)
}

/// Per-channel sums over each held shard's rows, chunk by chunk (each chunk's in Double), the
/// chunks added in order: Σ (a − center), or with `b`, Σ (a − center) · b, or with `square`,
/// Σ (a − center)²; one row per shard.
func channelSums(
  _ a: UnsafePointer<Float>, times b: UnsafePointer<Float>? = nil, square: Bool = false, center: [Double]? = nil,
  _ shardRows: [Range<Int>], c: Int
) -> [[Double]] {
  // (shard, chunk within it) pairs, in order.
  let work = shardRows.enumerated().flatMap { s, rows in (0..<normalizationChunks(rows.count)).map { (s, $0) } }
  let partial = UnsafeMutablePointer<Double>.allocate(capacity: work.count * c)
  defer { partial.deallocate() }
  partial.initialize(repeating: 0, count: work.count * c)
  let shift = center ?? [Double](repeating: 0, count: c)
  shift.withUnsafeBufferPointer { m in
    parallelFor(work.count) { w in
      let sum = partial + w * c
      let rows = shardRows[work[w].0]
      let chunk = normalizationRows(work[w].1, rows.count)
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
struct ColumnSums {
  let dy: [Float], dyXhat: [Float], heldDy: [Float], heldDyXhat: [Float]

  /// From each held shard's sums in Double: Σ dy then Σ dy · x̂, one row of 2c per shard.
  init(_ perShard: [[Double]], _ shards: BatchShards, c: Int) throws {
    let all = try shards.total(perShard).map { Float($0) }
    let held = treeSum(perShard.map { $0.map { Float($0) } })
    (dy, dyXhat, heldDy, heldDyXhat) = (Array(all[..<c]), Array(all[c...]), Array(held[..<c]), Array(held[c...]))
  }
}

private func columnSums(_ dy: Tensor, times xhat: Tensor, _ shardRows: [Range<Int>], _ shards: BatchShards, c: Int)
  throws -> ColumnSums
{
  let perShard = zip(channelSums(dy.data, shardRows, c: c), channelSums(dy.data, times: xhat.data, shardRows, c: c))
    .map { $0 + $1 }
  return try ColumnSums(perShard, shards, c: c)
}

/// y = x · scale + shift per channel (the last axis), constants; dx = dy · scale.
public func channelAffine(_ x: Variable, scale: [Float], shift: [Float]) throws -> Variable {
  guard let c = x.shape.last, c == scale.count, c == shift.count else {
    throw TensorError("a per-channel affine map of \(scale.count) channels cannot take an input of shape \(x.shape)")
  }
  let y = Tensor(uninitialized: x.shape)
  let (xp, yp, rows) = (x.value.data, y.data, x.value.count / Swift.max(c, 1))
  parallelFor(normalizationChunks(rows)) { chunk in
    for r in normalizationRows(chunk, rows) {
      for j in 0..<c { yp[r * c + j] = xp[r * c + j] * scale[j] + shift[j] }
    }
  }
  return makeOutput("normalization", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: dy.shape)
    let (dyp, dxp) = (dy.data, dx.data)
    parallelFor(normalizationChunks(rows)) { chunk in
      for r in normalizationRows(chunk, rows) {
        for j in 0..<c { dxp[r * c + j] = dyp[r * c + j] * scale[j] }
      }
    }
    return [dx]
  }
}
