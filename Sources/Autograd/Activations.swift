import Foundation
import Tensors

/// An activation applied at the end of a layer. ReLU is fused into the convolution and
/// dense kernels; softmax runs as its own op.
public enum Activation: String, Sendable, CaseIterable {
  case linear
  case relu
  case softmax
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

public func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  for i in 0..<n { y[i] = Swift.max(x[i], 0) }
}

/// dx = dy where the output was positive, else 0 (in place allowed: dx may equal dy).
public func reluBackward(
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
