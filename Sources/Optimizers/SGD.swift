/// Plain stochastic gradient descent, optionally with momentum (Keras's formulation:
/// velocity = momentum · velocity - lr · g; p += velocity).
public final class SGD: Optimizer {
  public var learningRate: Float
  public let momentum: Float
  public private(set) var iterations = 0
  private var velocity: [Tensor] = []

  public init(learningRate: Float = 0.01, momentum: Float = 0) {
    self.learningRate = learningRate
    self.momentum = momentum
  }

  public func step(_ parameters: [Variable]) throws {
    if velocity.isEmpty { velocity = parameters.map { Tensor(zeros: $0.shape) } }
    guard velocity.count == parameters.count else {
      throw OptimizerError("SGD was set up for \(velocity.count) parameters, got \(parameters.count)")
    }
    iterations += 1
    for (i, p) in parameters.enumerated() {
      guard let g = p.grad else { continue }
      guard g.shape == p.shape else {
        throw OptimizerError("SGD: parameter \(i) has shape \(p.shape), its gradient \(g.shape)")
      }
      let (pv, gv, vv) = (p.value.data, g.data, velocity[i].data)
      for j in 0..<p.value.count {
        vv[j] = momentum * vv[j] - learningRate * gv[j]
        pv[j] += vv[j]
      }
      p.grad = nil
    }
  }

  public func state() -> OptimizerState {
    OptimizerState(iterations: iterations, slots: ["velocity": velocity])
  }

  public func restore(_ state: OptimizerState, parameters: [Variable]) throws {
    guard let vs = state.slots["velocity"], vs.count == parameters.count else {
      throw OptimizerError("SGD state needs one velocity per parameter")
    }
    for (i, p) in parameters.enumerated() where vs[i].shape != p.shape {
      throw OptimizerError("SGD state for parameter \(i) has shape \(vs[i].shape), expected \(p.shape)")
    }
    iterations = state.iterations
    velocity = vs.map { $0.copy() }
  }
}
