import Foundation
import Tensors

// Lp pooling: a rule for one window (the reference) and a SIMD kernel for 2×2 tiles, both
// recording the local derivatives the shared backward turns into dx (WeightedPooling.swift).

/// Lp pooling as PyTorch's `LPPool2d`: (Σ xᵖ)^(1/p) over each window's real cells, a power
/// sum, not a mean (p = 1 is sum pooling; a large p approaches max pooling). As in PyTorch, a
/// negative power sum (negative inputs with an odd p, say) has no real root and gives NaN,
/// and a window of zeros gives 0; unlike PyTorch, a power sum past float32's range is
/// rescaled rather than giving inf (see `lpWindow`). Its gradient is xᵖ⁻¹ · S^(1/p − 1); for a window whose
/// power sum is 0 and p > 1 it is 0 here, where PyTorch's is NaN (0 · ∞).
public func lpPool2d(_ x: Variable, p: Float, pool: (Int, Int), strides: (Int, Int), padding: Padding) throws
  -> Variable
{
  guard p > 0, p.isFinite else { throw TensorError("Lp pooling needs a finite p > 0, got \(p)") }
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
