import Foundation
import Tensors

/// An activation applied at the end of a layer. ReLU is fused into the convolution and
/// dense kernels; softmax and GELU run as their own ops.
public enum Activation: String, Sendable, Choice {
  case linear
  case relu
  case softmax
  case gelu
}

/// The activations that run after a layer's fused kernel (softmax, GELU) applied to its output.
func applyUnfused(_ activation: Activation, _ out: Variable) -> Variable {
  switch activation {
  case .softmax: return softmax(out)
  case .gelu: return gelu(out)
  case .linear, .relu: return out
  }
}

// MARK: GELU

/// GELU, erf-based (PyTorch's default, not its tanh approximation): y = x · Φ(x) =
/// x/2 · (1 + erf(x/√2)); its derivative Φ(x) + x · φ(x), φ(x) = exp(−x²/2)/√(2π). Computed
/// eight lanes at a time by `geluLanes`, with Φ within 1.5e-7 of its exact value (checked
/// against `geluReference`, which uses the C library's erf).
public func gelu(_ x: Variable) -> Variable {
  let y = Tensor(uninitialized: x.shape)
  let (xp, yp, n) = (x.value.data, y.data, x.value.count)
  forEachLanes(n) { i, count in
    let v = loadLanes(xp + i, count)
    storeLanes(v * geluLanes(v).cdf, yp + i, count)
  }
  return makeOutput("gelu", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: dy.shape)
    let (dyp, dxp) = (dy.data, dx.data)
    forEachLanes(n) { i, count in
      let v = loadLanes(xp + i, count)
      let (cdf, pdf) = geluLanes(v)
      storeLanes(loadLanes(dyp + i, count) * (cdf + v * pdf), dxp + i, count)
    }
    return [dx]
  }
}

/// The plain twin of `gelu`'s kernel: (y, dy/dx) at x, from the C library's erf and exp.
package func geluReference(_ x: Float) -> (y: Float, derivative: Float) {
  let cdf = 0.5 * (1 + erff(x * 0.707_106_77))
  let pdf = expf(-0.5 * x * x) * 0.398_942_28
  return (x * cdf, cdf + x * pdf)
}

typealias Lanes = SIMD8<Float>

/// Φ(x) and φ(x) for eight values. Φ from erf by Abramowitz and Stegun's 7.1.26:
/// erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·exp(−z²), t = 1/(1 + p·z), for z =
/// |x|/√2 ≥ 0, within 1.5e-7; Φ = erfc(z)/2 below 0 and 1 − erfc(z)/2 above. exp(−z²) =
/// exp(−x²/2) serves φ too.
@inline(__always)
func geluLanes(_ x: Lanes) -> (cdf: Lanes, pdf: Lanes) {
  let magnitude = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Lanes.self)
  let z = magnitude * 0.707_106_77
  let t = 1 / (1 + 0.327_591_1 * z)
  var poly = Lanes(repeating: 1.061_405_429)
  poly = poly * t - 1.453_152_027
  poly = poly * t + 1.421_413_741
  poly = poly * t - 0.284_496_736
  poly = poly * t + 0.254_829_592
  let gauss = expNonPositive(Lanes() - z * z)
  let halfErfc = 0.5 * (poly * t * gauss)
  let cdf = halfErfc.replacing(with: 1 - halfErfc, where: x .>= 0)
  return (cdf, gauss * 0.398_942_28)
}

/// exp(x) for x ≤ 0 (0 below −87, where it would be subnormal): x = n·ln 2 + r with |r| ≤ ln 2 / 2, exp(r)
/// by its Taylor polynomial of degree 6 (relative error below 2e-7), times 2ⁿ built in the
/// exponent bits.
@inline(__always)
func expNonPositive(_ x: Lanes) -> Lanes {
  let xc = x.replacing(with: -87, where: x .< -87)
  // Adding 1.5·2²³ rounds to a whole number (the float's unit in the last place is 1), which
  // then sits in the low bits of the sum: n and 2ⁿ without a conversion instruction.
  let shifted = xc * 1.442_695_04 + 12_582_912
  let n = shifted - 12_582_912
  let r = (xc - n * 0.693_145_75) - n * 1.428_606_8e-6
  var p = Lanes(repeating: 1.0 / 720)
  p = p * r + 1.0 / 120
  p = p * r + 1.0 / 24
  p = p * r + 1.0 / 6
  p = p * r + 0.5
  p = p * r + 1
  p = p * r + 1
  let bits = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- (0x4B40_0000 - 127)) &<< 23
  return (p * unsafeBitCast(bits, to: Lanes.self)).replacing(with: 0, where: x .< -87)
}

/// Runs `body(i, count)` over 0..<n in pieces of eight lanes (the last may be shorter), in
/// parallel chunks of 4096 values.
@inline(__always)
func forEachLanes(_ n: Int, _ body: (Int, Int) -> Void) {
  parallelFor((n + 4095) / 4096) { chunk in
    var i = chunk * 4096
    let end = Swift.min(n, i + 4096)
    while i < end {
      body(i, Swift.min(8, end - i))
      i += 8
    }
  }
}

@inline(__always)
func loadLanes(_ p: UnsafePointer<Float>, _ count: Int) -> Lanes {
  if count == 8 { return UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
  var v = Lanes()
  for j in 0..<count { v[j] = p[j] }
  return v
}

@inline(__always)
func storeLanes(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
  if count == 8 {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    return
  }
  for j in 0..<count { p[j] = v[j] }
}

// MARK: ReLU

/// y = max(x, 0)
public func relu(_ x: Variable) -> Variable {
  let y = Tensor(uninitialized: x.shape)
  reluForward(x.value.data, y.data, x.value.count)
  return makeOutput("relu", y, inputs: [x]) { g in
    let dx = Tensor(uninitialized: g.shape)
    reluBackward(y.data, g.data, dx.data, g.count)
    return [dx]
  }
}

package func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  for i in 0..<n { y[i] = Swift.max(x[i], 0) }
}

/// dx = dy where the output was positive, else 0 (in place allowed: dx may equal dy).
package func reluBackward(
  _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int
) {
  for i in 0..<n { dx[i] = y[i] > 0 ? dy[i] : 0 }
}

// MARK: Softmax

/// Softmax over the last axis, computed stably (max subtracted).
public func softmax(_ x: Variable) -> Variable {
  let n = x.shape.last ?? 1
  let rows = n == 0 ? 0 : x.value.count / n
  let y = Tensor(uninitialized: x.shape)
  for r in 0..<rows { softmaxRow(x.value.data + r * n, y.data + r * n, n) }
  return makeOutput("softmax", y, inputs: [x]) { g in
    // dx = y * (dy - sum(dy * y)) per row
    let dx = Tensor(uninitialized: g.shape)
    for r in 0..<rows {
      let yr = y.data + r * n
      let gr = g.data + r * n
      var dot: Float = 0
      for j in 0..<n { dot += gr[j] * yr[j] }
      for j in 0..<n { dx.data[r * n + j] = yr[j] * (gr[j] - dot) }
    }
    return [dx]
  }
}

@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  var m = -Float.infinity
  for j in 0..<n { m = Swift.max(m, x[j]) }
  var s: Float = 0
  for j in 0..<n {
    let e = expf(x[j] - m)
    y[j] = e
    s += e
  }
  let inv = 1 / s
  for j in 0..<n { y[j] *= inv }
}

// MARK: Bias and activation, fused into convolution and dense layers

/// Rows per chunk of the fused bias/activation passes: fixed, so sums do not depend on the
/// thread count.
let biasChunkRows = 256

/// y[r, j] = act(y[r, j] + bias[j]) in one pass, in place.
package func biasActivationForward(
  _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int, bias: UnsafePointer<Float>?, relu: Bool
) {
  if bias == nil && !relu { return }
  parallelFor((rows + biasChunkRows - 1) / biasChunkRows) { chunk in
    let r0 = chunk * biasChunkRows
    biasActivationRows(y + r0 * n, rows: Swift.min(rows, r0 + biasChunkRows) - r0, n: n, bias: bias, relu: relu)
  }
}

/// `biasActivationForward` on the calling thread.
package func biasActivationRows(
  _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int, bias: UnsafePointer<Float>?, relu: Bool
) {
  for r in 0..<rows {
    let p = y + r * n
    if let bias {
      if relu {
        for j in 0..<n { p[j] = Swift.max(p[j] + bias[j], 0) }
      } else {
        for j in 0..<n { p[j] += bias[j] }
      }
    } else if relu {
      for j in 0..<n { p[j] = Swift.max(p[j], 0) }
    }
  }
}

/// The backward of `biasActivationForward` in one pass: dz = dy where y > 0 (with ReLU; else
/// dz is dy itself) and, when `biasSums` is given, the column sums of each run of rows in
/// `shards` into its row of `biasSums`, each added chunk by chunk in a fixed order.
package func biasActivationBackward(
  _ y: Tensor, _ dy: Tensor, relu: Bool, biasSums: UnsafeMutablePointer<Float>?, shards: [Range<Int>], n: Int
) -> Tensor {
  if !relu && biasSums == nil { return dy }
  let dz = relu ? Tensor(uninitialized: dy.shape) : dy
  // (shard, rows) of every chunk, shard by shard.
  let work = shards.enumerated().flatMap { s, rows in
    stride(from: rows.lowerBound, to: rows.upperBound, by: biasChunkRows).map {
      (s, $0..<Swift.min(rows.upperBound, $0 + biasChunkRows))
    }
  }
  let partial = Tensor(zeros: [Swift.max(work.count, 1), n])
  let (yp, dyp, dzp, pp) = (y.data, dy.data, dz.data, partial.data)
  parallelFor(work.count) { w in
    let sum = pp + w * n
    for r in work[w].1 {
      let o = r * n
      if relu { reluBackward(yp + o, dyp + o, dzp + o, n) }
      if biasSums != nil { addInPlace(sum, dzp + o, n) }
    }
  }
  if let biasSums {
    var first = 0
    for s in shards.indices {
      let count = work[first...].prefix { $0.0 == s }.count
      sumRows(pp + first * n, rows: count, n: n, into: biasSums + s * n)
      first += count
    }
  }
  return dz
}
