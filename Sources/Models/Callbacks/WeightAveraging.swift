import Foundation
import Tensors

/// Weight averaging as the fast CIFAR-10 recipe does it: from epoch `startEpoch` on, after
/// every `every`-th step (counted over the whole run), all the model's weights (batch-norm
/// statistics included) move to an exponential moving average and are set to it. The
/// average's decay grows over training: ρ = decay^every · (step / totalSteps)^power, so early
/// updates follow the weights closely and late ones average over many steps. The first update
/// starts the average at the weights. A callback of `fit`; checkpoints keep the average
/// (`averaged.<name>` tensors), so a resumed run continues it exactly.
public final class WeightAveraging: Callback {
  public let startEpoch: Int
  public let every: Int
  public let decay: Double
  public let power: Double
  /// The average, in `Sequential.namedParameters` order; nil until the first update.
  public internal(set) var average: [Tensor]?

  /// The recipe's: from the 4th epoch, every 5 steps, decay 0.95 per step, power 3.
  public init(startEpoch: Int = 4, every: Int = 5, decay: Double = 0.95, power: Double = 3) {
    self.startEpoch = startEpoch
    self.every = every
    self.decay = decay
    self.power = power
  }

  public func trainingBegan(_ context: TrainingContext) throws {
    guard startEpoch >= 1, every >= 1, decay >= 0, decay <= 1, power >= 0 else {
      throw TrainingError.badOptions(
        "weight averaging needs startEpoch ≥ 1, every ≥ 1, decay in [0, 1] and power ≥ 0")
    }
  }

  public func batchEnded(_ context: TrainingContext, _ progress: BatchProgress) throws {
    update(context.model, epoch: context.epoch, step: context.step, totalSteps: context.totalSteps)
  }

  /// After step `step` (1-based over the run) of `totalSteps`, in epoch `epoch` (1-based).
  public func update(_ model: Sequential, epoch: Int, step: Int, totalSteps: Int) {
    guard epoch >= startEpoch, step % every == 0 else { return }
    let weights = model.namedParameters.map(\.variable.value)
    guard let average else {
      self.average = weights.map { $0.copy() }
      return
    }
    let rho = Float(pow(decay, Double(every)) * pow(Double(step) / Double(totalSteps), power))
    for (a, w) in zip(average, weights) {
      let (ap, wp) = (a.data, w.data)
      for i in 0..<a.count {
        ap[i] += (1 - rho) * (wp[i] - ap[i])
        wp[i] = ap[i]
      }
    }
  }

  /// The first part of its tensors' names in checkpoints.
  public static let prefix = "averaged"
  public var stateName: String? { WeightAveraging.prefix }

  public func state(of model: Sequential) -> [String: Tensor] {
    guard let average else { return [:] }
    return Dictionary(
      uniqueKeysWithValues: zip(model.namedParameters, average).map { ("\(WeightAveraging.prefix).\($0.name)", $1) })
  }

  public func restore(_ tensors: [String: Tensor], of model: Sequential) throws {
    guard !tensors.isEmpty else {
      average = nil
      return
    }
    average = try model.namedParameters.map { p in
      let name = "\(WeightAveraging.prefix).\(p.name)"
      guard let t = tensors[name], t.shape == p.variable.shape else {
        throw ModelError("it lacks \(name) of shape \(p.variable.shape)")
      }
      return t
    }
  }
}
