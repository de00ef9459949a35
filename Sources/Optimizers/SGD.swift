import Autograd
import Tensors

/// Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, in
/// Keras's formulation (the default) or PyTorch's. With m the parameter's
/// `learningRateMultiplier`:
///
/// Keras (`.keras`), decay decoupled and not multiplied by m:
///
///     p -= lr · weightDecay · p                        (before the step)
///     velocity = momentum · velocity − lr · m · g
///     p += velocity                                    (plain momentum)
///     p += momentum · velocity − lr · m · g            (Nesterov)
///
/// PyTorch (`.pytorch`, `torch.optim.SGD`), decay coupled into the gradient, with its
/// coefficient divided by m so that every parameter decays by lr · weightDecay · p per step:
///
///     d = g + (weightDecay / m) · p
///     velocity = momentum · velocity + d
///     p -= lr · m · velocity                           (plain momentum)
///     p -= lr · m · (d + momentum · velocity)          (Nesterov)
///
/// The two agree while the rate is constant; under a schedule Keras's velocity keeps the
/// rates of past steps, PyTorch's applies the current rate to all of it.
public final class SGD: Optimizer {
  public enum Formulation: String, Sendable {
    case keras
    case pytorch
  }

  public var learningRate: Float
  public let momentum: Float
  public let nesterov: Bool
  public let weightDecay: Float
  public let formulation: Formulation
  public private(set) var iterations = 0
  private var velocity: [Tensor] = []

  public init(
    learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0,
    formulation: Formulation = .keras
  ) {
    self.formulation = formulation
    self.learningRate = learningRate
    self.momentum = momentum
    self.nesterov = nesterov
    self.weightDecay = weightDecay
  }

  public func step(_ parameters: [Variable]) throws {
    if velocity.isEmpty { velocity = parameters.map { Tensor(zeros: $0.shape) } }
    guard velocity.count == parameters.count else {
      throw OptimizerError("SGD was set up for \(velocity.count) parameters, got \(parameters.count)")
    }
    iterations += 1
    let (mu, decay) = (momentum, learningRate * weightDecay)
    for (i, p) in parameters.enumerated() {
      guard let g = p.grad else { continue }
      let lr = learningRate * p.learningRateMultiplier
      guard g.shape == p.shape else {
        throw OptimizerError("SGD: parameter \(i) has shape \(p.shape), its gradient \(g.shape)")
      }
      let (pv, gv, vv) = (p.value.data, g.data, velocity[i].data)
      switch formulation {
      case .keras:
        for j in 0..<p.value.count {
          if decay != 0 { pv[j] -= decay * pv[j] }
          vv[j] = mu * vv[j] - lr * gv[j]
          pv[j] += nesterov ? mu * vv[j] - lr * gv[j] : vv[j]
        }
      case .pytorch:
        let coupled = weightDecay / p.learningRateMultiplier
        for j in 0..<p.value.count {
          let d = gv[j] + coupled * pv[j]
          vv[j] = mu * vv[j] + d
          pv[j] -= lr * (nesterov ? d + mu * vv[j] : vv[j])
        }
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
