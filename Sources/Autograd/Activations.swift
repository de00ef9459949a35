import Foundation
import Tensors

/// An activation applied at the end of a layer. ReLU is fused into the convolution and
/// dense kernels; softmax and GELU run as their own ops.
public enum Activation: String, Sendable, CaseIterable {
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

/// GELU, exact (erf-based, PyTorch's default): y = x · Φ(x) = x/2 · (1 + erf(x/√2)); its
/// derivative Φ(x) + x · φ(x), φ(x) = exp(−x²/2)/√(2π).
public func gelu(_ x: Variable) -> Variable {
  let y = Tensor(uninitialized: x.shape)
  let (xp, yp, n) = (x.value.data, y.data, x.value.count)
  parallelFor((n + 4095) / 4096) { chunk in
    for i in (chunk * 4096)..<Swift.min(n, (chunk + 1) * 4096) {
      yp[i] = 0.5 * xp[i] * (1 + erff(xp[i] * 0.707_106_77))
    }
  }
  return makeOutput("gelu", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: dy.shape)
    let (dyp, dxp, xv) = (dy.data, dx.data, x.value.data)
    parallelFor((n + 4095) / 4096) { chunk in
      for i in (chunk * 4096)..<Swift.min(n, (chunk + 1) * 4096) {
        let v = xv[i]
        let cdf = 0.5 * (1 + erff(v * 0.707_106_77))
        let pdf = expf(-0.5 * v * v) * 0.398_942_28
        dxp[i] = dyp[i] * (cdf + v * pdf)
      }
    }
    return [dx]
  }
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
/// dz is dy itself) and, when `biasGrad` is given, its column sums, added chunk by chunk in
/// a fixed order.
package func biasActivationBackward(
  _ y: Tensor, _ dy: Tensor, relu: Bool, biasGrad: Tensor?, rows: Int, n: Int
) -> Tensor {
  if !relu && biasGrad == nil { return dy }
  let dz = relu ? Tensor(uninitialized: dy.shape) : dy
  let chunks = (rows + biasChunkRows - 1) / biasChunkRows
  let partial = Tensor(zeros: [Swift.max(chunks, 1), n])
  let (yp, dyp, dzp, pp) = (y.data, dy.data, dz.data, partial.data)
  let sums = biasGrad != nil
  parallelFor(chunks) { chunk in
    let sum = pp + chunk * n
    for r in (chunk * biasChunkRows)..<Swift.min(rows, (chunk + 1) * biasChunkRows) {
      let o = r * n
      if relu { reluBackward(yp + o, dyp + o, dzp + o, n) }
      if sums { addInPlace(sum, dzp + o, n) }
    }
  }
  if let biasGrad { sumRows(pp, rows: chunks, n: n, into: biasGrad.data) }
  return dz
}
