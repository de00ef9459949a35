import Layers
import Optimizers

/// Trains the parameters named by `names` ("conv2d.bias") in epochs up to `lastEpoch` only and
/// freezes them after: the fast recipe trains its whitening layer's bias for 3 epochs.
public final class TrainUntil: Callback {
  public let lastEpoch: Int
  public let names: Set<String>

  public init(epoch lastEpoch: Int, parameters names: Set<String>) {
    self.lastEpoch = lastEpoch
    self.names = names
  }

  public func trainingBegan(_ context: TrainingContext) throws {
    let known = Set(context.model.namedTrainableParameters.map(\.name))
    if let missing = names.subtracting(known).sorted().first {
      throw TrainingError.badOptions("TrainUntil: the model has no trainable parameter '\(missing)'")
    }
  }

  public func epochBegan(_ context: TrainingContext) throws {
    for (name, v) in context.model.namedTrainableParameters where names.contains(name) {
      v.requiresGrad = context.epoch <= lastEpoch
    }
  }
}

/// Multiplies the learning rate of one parameter of every layer of a type ("beta" of
/// `BatchNormalization`) by `factor` for the whole run: the fast recipe trains batch norm's
/// offsets 64 times faster.
public final class RateMultiplier: Callback {
  public let factor: Float
  public let parameter: String
  public let layerType: any Layer.Type

  public init(_ factor: Float, parameter: String, of layerType: any Layer.Type) {
    self.factor = factor
    self.parameter = parameter
    self.layerType = layerType
  }

  public func trainingBegan(_ context: TrainingContext) throws {
    guard factor > 0, factor.isFinite else {
      throw TrainingError.badOptions("RateMultiplier: the factor must be positive, got \(factor)")
    }
    let model = context.model
    let chosen = Set(
      zip(model.layerNames, model.layers).filter { ObjectIdentifier(type(of: $1)) == ObjectIdentifier(layerType) }
        .map { "\($0.0).\(parameter)" })
    for (name, v) in model.namedTrainableParameters where chosen.contains(name) {
      v.learningRateMultiplier = factor
    }
  }
}
