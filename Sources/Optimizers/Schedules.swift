import Autograd
import Foundation
import Tensors

/// How the learning rate changes over a run, as a factor of the optimizer's base rate at each
/// step. `fit` sets the rate before every step from the optimizer's step count, which
/// checkpoints keep, so a resumed run follows the schedule exactly.
public enum LearningRateSchedule: Equatable, Sendable {
  /// The base rate throughout.
  case constant
  /// Straight lines through (fraction of all steps, factor) points, flat before the first and
  /// after the last: the fast recipe's triangle is [(0, 0.2), (0.23, 1), (1, 0.07)].
  case piecewiseLinear([SchedulePoint])
  /// A linear warm-up from 0 over `warmup` (a fraction of all steps), then a half cosine from 1
  /// down to `final`.
  case cosine(warmup: Double = 0, final: Float = 0)
  /// The factor multiplied by `factor` every `every` steps.
  case step(every: Int, factor: Float)

  /// The factor of the base rate at `step` (0-based) of `totalSteps`.
  public func factor(step: Int, totalSteps: Int) -> Float {
    let t = totalSteps > 0 ? Double(step) / Double(totalSteps) : 0
    switch self {
    case .constant:
      return 1
    case .piecewiseLinear(let points):
      guard let first = points.first, let last = points.last else { return 1 }
      if t <= first.at { return first.factor }
      for (a, b) in zip(points, points.dropFirst()) where t <= b.at {
        let w = b.at > a.at ? (t - a.at) / (b.at - a.at) : 1
        return a.factor + Float(w) * (b.factor - a.factor)
      }
      return last.factor
    case .cosine(let warmup, let final):
      if t < warmup { return Float(t / warmup) }
      let progress = warmup < 1 ? (t - warmup) / (1 - warmup) : 1
      return final + (1 - final) * Float(0.5 * (1 + cos(Double.pi * Swift.min(progress, 1))))
    case .step(let every, let factor):
      return powf(factor, Float(step / Swift.max(every, 1)))
    }
  }

  /// Throws a clear error for a schedule that cannot work (unordered points, an empty list, ...).
  public func validate() throws {
    switch self {
    case .constant: return
    case .piecewiseLinear(let points):
      guard !points.isEmpty else { throw OptimizerError("a piecewise-linear schedule needs at least one point") }
      for (a, b) in zip(points, points.dropFirst()) where b.at < a.at {
        throw OptimizerError("schedule points must be in order of their step fraction, got \(a.at) before \(b.at)")
      }
      for p in points where !(p.factor.isFinite && p.factor >= 0 && p.at.isFinite) {
        throw OptimizerError("schedule point (\(p.at), \(p.factor)) must hold finite numbers and a factor >= 0")
      }
    case .cosine(let warmup, let final):
      guard (0...1).contains(warmup), final >= 0, final.isFinite else {
        throw OptimizerError("a cosine schedule needs warmup in [0, 1] and a final factor >= 0")
      }
    case .step(let every, let factor):
      guard every > 0, factor > 0, factor.isFinite else {
        throw OptimizerError("a step schedule needs every > 0 and a factor > 0, got \(every) and \(factor)")
      }
    }
  }
}

/// A point of a piecewise-linear schedule: at a fraction of all steps, a factor of the base rate.
public struct SchedulePoint: Equatable, Sendable {
  public let at: Double
  public let factor: Float
  public init(_ at: Double, _ factor: Float) {
    self.at = at
    self.factor = factor
  }
}
