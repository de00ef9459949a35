import Foundation
import Tensors

// Mixed max-average pooling: a rule for one window (the reference) and a SIMD kernel for 2×2 tiles, both
// recording the local derivatives the shared backward turns into dx (WeightedPooling.swift).

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
      throw TensorError("mixed pooling needs 1 or \(c) values of lambda, got shape \(v.shape)")
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
