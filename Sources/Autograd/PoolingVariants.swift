import Foundation
import Tensors

// The seeds' other poolings: min, mixed max-average, Lp and average of the top k, each as a
// rule for one window (the reference) and a SIMD kernel for 2×2 tiles, both recording the
// local derivatives that `weightedPoolBackward` turns into dx (WeightedPooling.swift).

typealias V8 = SIMD8<Float>

/// 1 where `mask` holds, else 0.
@inline(__always)
private func ones(_ mask: SIMDMask<SIMD8<Int32>>) -> V8 { V8(repeating: 0).replacing(with: 1, where: mask) }

// MARK: - Min

/// Min pooling: the smallest real cell of each window, the first in row-major order on ties;
/// its gradient goes to that cell.
public func minPool2d(_ x: Variable, pool: (Int, Int), strides: (Int, Int), padding: Padding) throws -> Variable {
  let g = try poolGeometry(x, pool, strides, padding)
  return weightedPoolOp("min_pooling2d", x, g) { x, y, weights in
    if isTiled2x2(g) {
      minPool2x2(x, g, y, weights?.pointer)
    } else {
      weightedPoolReference(x, g, y, weights) { values, w, _, _ in
        var best = 0
        for i in 1..<values.count where values[i] < values[best] { best = i }
        for i in w.indices { w[i] = i == best ? 1 : 0 }
        return values[best]
      }
    }
  }
}

func minPool2x2(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  _ weights: UnsafeMutablePointer<Float>?
) {
  forEachTile(x, g) { window, o, ch, v in
    var best = v.0
    var won = V8(repeating: 0)
    @inline(__always) func consider(_ cell: V8, _ index: Float) {
      let better = cell .< best
      best.replace(with: cell, where: better)
      won.replace(with: index, where: better)
    }
    consider(v.1, 1)
    consider(v.2, 2)
    consider(v.3, 3)
    UnsafeMutableRawPointer(y + o + ch).storeBytes(of: best, as: V8.self)
    storeTileWeights(
      weights, window, ch, g.channels, (ones(won .== 0), ones(won .== 1), ones(won .== 2), ones(won .== 3)))
  }
}

// MARK: - Average of the top k

/// Avg-TopK pooling: the mean of the k largest real cells of each window (of all of them when
/// a `same`-padded window holds fewer than k). Ties are ranked by position: of equal values,
/// the earlier cell in row-major order counts as larger. Each chosen cell gets 1/k of the
/// gradient.
public func avgTopKPool2d(_ x: Variable, k: Int, pool: (Int, Int), strides: (Int, Int), padding: Padding) throws
  -> Variable
{
  guard k >= 1 else { throw ShapeError("avg-top-k pooling needs k >= 1, got \(k)") }
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

// MARK: - Mixed max-average

/// Where a mixed pooling's λ comes from.
public enum MixingWeight {
  /// λ from a variable of 1 value (one λ for all channels) or one per channel, clamped to
  /// [0, 1]; when the variable requires a gradient, λ learns (Lee et al. 2016).
  case variable(Variable)
  /// λ drawn 0 or 1 per window and channel (Yu et al. 2014). The draws hash `seed`, the
  /// window's place and the bits of its image's input: they change at every step as the
  /// weights do, yet a run is reproducible, independent of the thread count, and resumes
  /// exactly with no generator state to save.
  case random(seed: UInt64)
}

/// Mixed pooling: λ · max + (1 − λ) · average over each window's real cells. The largest cell
/// (the first on ties) gets λ of the gradient and every cell (1 − λ)/count; a learned λ gets
/// Σ dy · (max − average).
public func mixedPool2d(
  _ x: Variable, lambda: MixingWeight, pool: (Int, Int), strides: (Int, Int), padding: Padding
) throws -> Variable {
  let g = try poolGeometry(x, pool, strides, padding)
  let c = g.channels
  let lambdaOf: (_ window: Int, _ channel: Int) -> Float
  // A variable λ, clamped and spread to one value per channel; nil for random draws.
  var perChannel: [Float]?
  var learned: Variable?
  switch lambda {
  case .variable(let v):
    guard v.value.count == 1 || v.value.count == c else {
      throw ShapeError("mixed pooling needs 1 or \(c) values of lambda, got shape \(v.shape)")
    }
    let values = (0..<c).map { Swift.min(Swift.max(v.value[v.value.count == 1 ? 0 : $0], 0), 1) }
    perChannel = values
    lambdaOf = { _, ch in values[ch] }
    if v.requiresGrad { learned = v }
  case .random(let seed):
    let hashes = imageHashes(x.value)
    let windowsPerImage = g.outH * g.outW
    lambdaOf = { window, ch in
      randomBit(seed, hashes[window / windowsPerImage], window % windowsPerImage, ch) ? 1 : 0
    }
  }
  let spread = learned.map { _ in Tensor(uninitialized: [g.batch, g.outH, g.outW, c]) }
  let spreadPointer = spread?.data
  let (lam, channelLambdas) = (lambdaOf, perChannel)
  return weightedPoolOp(
    "mixed_pooling2d", x, g, extraInputs: learned.map { [$0] } ?? [],
    forward: { x, y, weights in
      if isTiled2x2(g) {
        mixedPool2x2(x, g, y, weights?.pointer, spread: spreadPointer, channelLambdas: channelLambdas, lambda: lam)
        return
      }
      weightedPoolReference(x, g, y, weights) { values, w, window, ch in
        let l = lam(window, ch)
        var best = 0
        var sum: Float = 0
        for i in 0..<values.count {
          if values[i] > values[best] { best = i }
          sum += values[i]
        }
        let average = sum / Float(values.count)
        let share = (1 - l) / Float(values.count)
        for i in w.indices { w[i] = i == best ? share + l : share }
        spreadPointer?[window * c + ch] = values[best] - average
        return l * values[best] + (1 - l) * average
      }
    },
    extraBackward: learned.map { v in
      { dy in [lambdaGradient(dy, spread!, v)] }
    })
}

/// Mixed pooling on the SIMD path: the same maxima, sums, weights and outputs as the reference.
/// λ comes from `channelLambdas` (one per channel) when given, else from `lambda` per lane.
func mixedPool2x2(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  _ weights: UnsafeMutablePointer<Float>?, spread: UnsafeMutablePointer<Float>?, channelLambdas: [Float]?,
  lambda: (_ window: Int, _ channel: Int) -> Float
) {
  let one = V8(repeating: 1)
  let four = V8(repeating: 4)
  forEachTile(x, g) { window, o, ch, v in
    var l = V8()
    if let channelLambdas {
      l = channelLambdas.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress! + ch).loadUnaligned(as: V8.self) }
    } else {
      for lane in 0..<8 { l[lane] = lambda(window, ch + lane) }
    }
    var best = v.0
    var won = V8(repeating: 0)
    @inline(__always) func consider(_ cell: V8, _ index: Float) {
      let better = cell .> best
      best.replace(with: cell, where: better)
      won.replace(with: index, where: better)
    }
    consider(v.1, 1)
    consider(v.2, 2)
    consider(v.3, 3)
    let average = ((((V8(repeating: 0) + v.0) + v.1) + v.2) + v.3) / four
    let share = (one - l) / four
    let lead = share + l
    UnsafeMutableRawPointer(y + o + ch).storeBytes(of: l * best + (one - l) * average, as: V8.self)
    if let spread { UnsafeMutableRawPointer(spread + o + ch).storeBytes(of: best - average, as: V8.self) }
    storeTileWeights(
      weights, window, ch, g.channels,
      (
        share.replacing(with: lead, where: won .== 0), share.replacing(with: lead, where: won .== 1),
        share.replacing(with: lead, where: won .== 2), share.replacing(with: lead, where: won .== 3)
      ))
  }
}

/// Σ dy · (max − average) over the batch and windows, per channel or summed over channels. It
/// passes through the clamp to [0, 1] (straight through), so a λ pushed outside can come back.
/// Images are summed in order: the same with any number of threads.
private func lambdaGradient(_ dy: Tensor, _ spread: Tensor, _ lambda: Variable) -> Tensor {
  guard dy.count > 0 else { return Tensor(zeros: lambda.shape) }
  let c = dy.shape[3]
  let perImage = dy.count / dy.shape[0]
  let partial = Tensor(zeros: [dy.shape[0], c])
  parallelFor(dy.shape[0]) { n in
    for i in stride(from: n * perImage, to: (n + 1) * perImage, by: c) {
      for ch in 0..<c { partial.data[n * c + ch] += dy.data[i + ch] * spread.data[i + ch] }
    }
  }
  let grad = Tensor(zeros: lambda.shape)
  for n in 0..<dy.shape[0] {
    for ch in 0..<c { grad.data[grad.count == 1 ? 0 : ch] += partial.data[n * c + ch] }
  }
  return grad
}

// MARK: - Lp

/// Lp pooling as PyTorch's `LPPool2d`: (Σ xᵖ)^(1/p) over each window's real cells, a power
/// sum, not a mean (p = 1 is sum pooling; a large p approaches max pooling). As in PyTorch, a
/// negative power sum (negative inputs with an odd p, say) has no real root and gives NaN,
/// and a window of zeros gives 0; unlike PyTorch, a power sum past float32's range is
/// rescaled rather than giving inf (see `lpWindow`). Its gradient is xᵖ⁻¹ · S^(1/p − 1); for a window whose
/// power sum is 0 and p > 1 it is 0 here, where PyTorch's is NaN (0 · ∞).
public func lpPool2d(_ x: Variable, p: Float, pool: (Int, Int), strides: (Int, Int), padding: Padding) throws
  -> Variable
{
  guard p > 0, p.isFinite else { throw ShapeError("Lp pooling needs a finite p > 0, got \(p)") }
  let g = try poolGeometry(x, pool, strides, padding)
  return weightedPoolOp("lp_pooling2d", x, g) { x, y, weights in
    if isTiled2x2(g) && p == 2 {
      l2Pool2x2(x, g, y, weights?.pointer)
    } else {
      weightedPoolReference(x, g, y, weights) { values, w, _, _ in lpWindow(values, w, p) }
    }
  }
}

/// One Lp window: the output, and ∂y/∂x into `w`. When the power sum overflows float32 (p = 50
/// over values of 10, say: PyTorch gives inf there), it is taken again over the values divided
/// by the largest magnitude m: y = m · (Σ (x/m)ᵖ)^(1/p), finite and exact to rounding; the
/// gradient (x/m)ᵖ⁻¹ · S'^(1/p − 1) needs no scale.
func lpWindow(_ values: UnsafeMutableBufferPointer<Float>, _ w: UnsafeMutableBufferPointer<Float>, _ p: Float) -> Float
{
  var sum: Float = 0
  for v in values { sum += power(v, p) }
  var scale: Float = 1
  if sum == .infinity && p > 1 {
    scale = values.reduce(0) { Swift.max($0, abs($1)) }
    sum = 0
    for v in values { sum += power(v / scale, p) }
  }
  let out = root(sum, p) * scale
  for i in w.indices {
    if p == 1 {
      w[i] = 1
    } else if sum == 0 {
      w[i] = 0
    } else if p == 2 {
      w[i] = values[i] / out
    } else {
      w[i] = power(values[i] / scale, p - 1) * powf(sum, 1 / p - 1)
    }
  }
  return out
}

/// xᵖ as PyTorch's pow computes it for float tensors: products for p = 2 and 3.
@inline(__always)
func power(_ x: Float, _ p: Float) -> Float {
  switch p {
  case 1: return x
  case 2: return x * x
  case 3: return x * x * x
  default: return powf(x, p)
  }
}

/// s^(1/p), a square root for p = 2 (as PyTorch's pow with exponent 0.5).
@inline(__always)
func root(_ s: Float, _ p: Float) -> Float {
  switch p {
  case 1: return s
  case 2: return s.squareRoot()
  default: return powf(s, 1 / p)
  }
}

/// L2 pooling on the SIMD path: the same sums, roots and weights as the reference.
func l2Pool2x2(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  _ weights: UnsafeMutablePointer<Float>?
) {
  let zero = V8(repeating: 0)
  forEachTile(x, g) { window, o, ch, v in
    var sum = zero
    sum += v.0 * v.0
    sum += v.1 * v.1
    sum += v.2 * v.2
    sum += v.3 * v.3
    var out = sum.squareRoot()
    let empty = sum .== zero
    var w = (
      (v.0 / out).replacing(with: 0, where: empty), (v.1 / out).replacing(with: 0, where: empty),
      (v.2 / out).replacing(with: 0, where: empty), (v.3 / out).replacing(with: 0, where: empty)
    )
    if any(sum .== V8(repeating: .infinity)) {
      // Rare (values past 1.8e19): the overflowing lanes as the reference computes them.
      var cells: (Float, Float, Float, Float) = (0, 0, 0, 0)
      var local: (Float, Float, Float, Float) = (0, 0, 0, 0)
      for lane in 0..<8 where sum[lane] == .infinity {
        cells = (v.0[lane], v.1[lane], v.2[lane], v.3[lane])
        withUnsafeMutableBytes(of: &cells) { c in
          withUnsafeMutableBytes(of: &local) { l in
            out[lane] = lpWindow(
              UnsafeMutableBufferPointer(start: c.baseAddress!.assumingMemoryBound(to: Float.self), count: 4),
              UnsafeMutableBufferPointer(start: l.baseAddress!.assumingMemoryBound(to: Float.self), count: 4), 2)
          }
        }
        (w.0[lane], w.1[lane], w.2[lane], w.3[lane]) = local
      }
    }
    UnsafeMutableRawPointer(y + o + ch).storeBytes(of: out, as: V8.self)
    storeTileWeights(weights, window, ch, g.channels, w)
  }
}
