import Foundation
import Tensors

// Avg-TopK pooling: a rule for one window (the reference) and a SIMD kernel for 2×2 tiles, both
// recording the local derivatives the shared backward turns into dx (WeightedPooling.swift).

/// Avg-TopK pooling: the mean of the k largest real cells of each window (of all of them when
/// a `same`-padded window holds fewer than k). Ties are ranked by position: of equal values,
/// the earlier cell in row-major order counts as larger. Each chosen cell gets 1/k of the
/// gradient.
public func avgTopKPool2d(_ x: Variable, k: Int, pool: (Int, Int), strides: (Int, Int), padding: Padding) throws
  -> Variable
{
  guard k >= 1 else { throw TensorError("avg-top-k pooling needs k >= 1, got \(k)") }
  let g = try poolGeometry(x, pool, strides, padding)
  return weightedPoolOp("avg_top_k_pooling2d", x, g) { x, y, weights in
    if isTiled2x2(g) && k <= 4 {
      avgTopKPool2x2(x, k: k, g, y, weights?.pointer)
    } else {
      weightedPoolReference(x, g, y, weights) { values, w, _, _ in
        let n = values.count
        let share = 1 / Float(Swift.min(k, n))
        var sum: Float = 0
        if n <= 64 {
          for i in 0..<n {
            var rank = 0
            for j in 0..<n where values[j] > values[i] || (values[j] == values[i] && j < i) { rank += 1 }
            w[i] = rank < k ? share : 0
          }
        } else {
          // Large (global) windows: the same order by a sort, larger first, earlier first on ties.
          let order = (0..<n).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
          for i in 0..<n { w[i] = 0 }
          for i in order.prefix(k) { w[i] = share }
        }
        for i in 0..<n where w[i] != 0 { sum += values[i] }
        return sum / Float(Swift.min(k, n))
      }
    }
  }
}

func avgTopKPool2x2(
  _ x: UnsafePointer<Float>, k: Int, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  _ weights: UnsafeMutablePointer<Float>?
) {
  let limit = V8(repeating: Float(k))
  let share = V8(repeating: 1 / Float(k))
  let zero = V8(repeating: 0)
  forEachTile(x, g) { window, o, ch, v in
    // A cell's rank: how many cells count as larger (larger, or equal and earlier).
    let chosen = (
      ones(v.1 .> v.0) + ones(v.2 .> v.0) + ones(v.3 .> v.0) .< limit,
      ones(v.0 .>= v.1) + ones(v.2 .> v.1) + ones(v.3 .> v.1) .< limit,
      ones(v.0 .>= v.2) + ones(v.1 .>= v.2) + ones(v.3 .> v.2) .< limit,
      ones(v.0 .>= v.3) + ones(v.1 .>= v.3) + ones(v.2 .>= v.3) .< limit
    )
    var sum = zero
    sum += zero.replacing(with: v.0, where: chosen.0)
    sum += zero.replacing(with: v.1, where: chosen.1)
    sum += zero.replacing(with: v.2, where: chosen.2)
    sum += zero.replacing(with: v.3, where: chosen.3)
    UnsafeMutableRawPointer(y + o + ch).storeBytes(of: sum / V8(repeating: Float(k)), as: V8.self)
    storeTileWeights(
      weights, window, ch, g.channels,
      (
        zero.replacing(with: share, where: chosen.0), zero.replacing(with: share, where: chosen.1),
        zero.replacing(with: share, where: chosen.2), zero.replacing(with: share, where: chosen.3)
      ))
  }
}
