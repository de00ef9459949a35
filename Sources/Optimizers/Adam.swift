import Autograd
import Foundation
import Tensors

/// Adam (Kingma & Ba) with Keras's defaults: learning rate 0.001, beta1 0.9, beta2 0.999,
/// epsilon 1e-7 (PyTorch uses 1e-8), and bias correction folded into the step size:
///
///     m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g²
///     p -= lr · sqrt(1 - b2^t) / (1 - b1^t) · m / (sqrt(v) + eps)
public final class Adam: Optimizer {
  public var learningRate: Float
  public let beta1: Float
  public let beta2: Float
  public let epsilon: Float
  public private(set) var iterations = 0
  private var m: [Tensor] = []
  private var v: [Tensor] = []

  public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
  }

  public func step(_ parameters: [Variable]) throws {
    if m.isEmpty {
      m = parameters.map { Tensor(zeros: $0.shape) }
      v = parameters.map { Tensor(zeros: $0.shape) }
    }
    guard m.count == parameters.count else {
      throw OptimizerError("Adam was set up for \(m.count) parameters, got \(parameters.count)")
    }
    iterations += 1
    let t = Double(iterations)
    let alpha = Float(
      Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
    let (b1, b2, eps) = (beta1, beta2, epsilon)
    // Elementwise, so all parameters are updated in one parallel loop over pieces of at most
    // 8K values: one loop per parameter left a thread idle on every small tensor and on the
    // odd piece of each large one.
    let piece = 8192
    var pieces: [Piece] = []
    for (i, p) in parameters.enumerated() {
      guard let g = p.grad else { continue }
      guard g.shape == p.shape, m[i].shape == p.shape else {
        throw OptimizerError("Adam: parameter \(i) has shape \(p.shape), its gradient \(g.shape)")
      }
      let (pp, gp, mp, vp, n) = (p.value.data, g.data, m[i].data, v[i].data, p.value.count)
      for o in stride(from: 0, to: n, by: piece) {
        pieces.append(Piece(p: pp + o, g: gp + o, m: mp + o, v: vp + o, count: min(piece, n - o)))
      }
    }
    parallelFor(pieces.count) { i in
      let x = pieces[i]
      adamUpdate(x.p, x.g, x.m, x.v, x.count, alpha, b1, b2, eps)
    }
    // The gradients stay alive through the loop: each parameter holds its own until here.
    for p in parameters { p.grad = nil }
  }

  /// A run of one parameter's values and their gradient and moments.
  private struct Piece {
    let p: UnsafeMutablePointer<Float>
    let g: UnsafeMutablePointer<Float>
    let m: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>
    let count: Int
  }

  public func state() -> OptimizerState {
    OptimizerState(iterations: iterations, slots: ["m": m, "v": v])
  }

  public func restore(_ state: OptimizerState, parameters: [Variable]) throws {
    guard let ms = state.slots["m"], let vs = state.slots["v"] else {
      throw OptimizerError("Adam state needs slots m and v")
    }
    guard ms.count == parameters.count, vs.count == parameters.count else {
      throw OptimizerError("Adam state holds \(ms.count) parameters, the model has \(parameters.count)")
    }
    for (i, p) in parameters.enumerated() where ms[i].shape != p.shape || vs[i].shape != p.shape {
      throw OptimizerError("Adam state for parameter \(i) has shape \(ms[i].shape), expected \(p.shape)")
    }
    iterations = state.iterations
    m = ms.map { $0.copy() }
    v = vs.map { $0.copy() }
  }
}

/// One Adam update over n values, eight lanes at a time (elementwise, so any split gives
/// the same result).
@inline(never)
func adamUpdate(
  _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
  _ v: UnsafeMutablePointer<Float>, _ n: Int, _ alpha: Float, _ b1: Float, _ b2: Float, _ eps: Float
) {
  typealias V = SIMD8<Float>
  let (pr, gr, mr, vr) = (
    UnsafeMutableRawPointer(p), UnsafeRawPointer(g), UnsafeMutableRawPointer(m), UnsafeMutableRawPointer(v)
  )
  let tiny = V(repeating: .leastNormalMagnitude)
  var i = 0
  while i + 8 <= n {
    let o = i * 4
    let gi = gr.loadUnaligned(fromByteOffset: o, as: V.self)
    var mi = b1 * mr.loadUnaligned(fromByteOffset: o, as: V.self) + (1 - b1) * gi
    var vi = b2 * vr.loadUnaligned(fromByteOffset: o, as: V.self) + (1 - b2) * gi * gi
    // Moments of weights whose gradient stays 0 decay into subnormal numbers, which cost the
    // processor about a hundred cycles per operation: flush them to 0.
    mi.replace(with: 0, where: mi .< tiny .& mi .> -tiny)
    vi.replace(with: 0, where: vi .< tiny)
    mr.storeBytes(of: mi, toByteOffset: o, as: V.self)
    vr.storeBytes(of: vi, toByteOffset: o, as: V.self)
    let step = alpha * mi / (vi.squareRoot() + eps)
    pr.storeBytes(of: pr.loadUnaligned(fromByteOffset: o, as: V.self) - step, toByteOffset: o, as: V.self)
    i += 8
  }
  while i < n {
    let gi = g[i]
    var mi = b1 * m[i] + (1 - b1) * gi
    var vi = b2 * v[i] + (1 - b2) * gi * gi
    if abs(mi) < .leastNormalMagnitude { mi = 0 }
    if vi < .leastNormalMagnitude { vi = 0 }
    m[i] = mi
    v[i] = vi
    p[i] -= alpha * mi / (vi.squareRoot() + eps)
    i += 1
  }
}
