import Autograd
import Datasets
import Foundation
import Layers
import Optimizers
import Tensors

/// A model and how to train it, as one value: `cnn train --model fast94` is
/// `Recipe.fast94.train(...)`. Every part is a property, so a variant is one line:
///
///     var recipe = Recipe.fast94
///     recipe.epochs = 8
///     let model = try recipe.makeModel(inputShape: train.imageShape, classes: 10)
///     try recipe.train(model, on: train, validation: test)
///     print(try recipe.finalEvaluation(of: model, on: test).accuracy)
public struct Recipe: Sendable {
  /// The network for an input shape, a class count and a seed, built and not compiled.
  public var network: @Sendable (_ inputShape: [Int], _ classes: Int, _ seed: UInt64) throws -> Sequential
  /// The optimizer at a base learning rate.
  public var optimizer: @Sendable (_ learningRate: Float) -> any Optimizer
  public var learningRate: Float
  public var loss: Loss
  /// Epochs, possibly fractional: the last one stops early, the schedule spanning the steps.
  public var epochs: Double
  public var batchSize: Int
  /// Whether each epoch's last, partial batch is left out.
  public var dropRemainder: Bool
  public var schedule: LearningRateSchedule
  public var augmentation: Augmentation
  /// Weight averaging with `WeightAveraging`'s defaults (the fast recipe's).
  public var weightAveraging: Bool
  /// The whitening layer (when the network has one) is set from the training images.
  /// Its bias trains in this many epochs only (nil: in all of them).
  public var whiteningBiasEpochs: Int?
  /// The learning rate multiplier of batch norm's offsets (β).
  public var offsetRateMultiplier: Float
  /// The views `finalEvaluation` averages.
  public var testTimeAugmentation: TestTimeAugmentation

  /// The optimizer, its rate, and what the recipe adds, in a line.
  public var summary: String {
    var parts = ["\(type(of: optimizer(learningRate))) lr \(learningRate)"]
    if schedule != .constant { parts.append("a learning rate schedule") }
    if augmentation.translate > 0 { parts.append("translate \(augmentation.translate)") }
    if augmentation.flip != .none { parts.append("\(augmentation.flip) flips") }
    if weightAveraging { parts.append("weight averaging") }
    return parts.joined(separator: ", ")
  }

  /// A compiled model of this recipe.
  public func makeModel(inputShape: [Int] = [32, 32, 3], classes: Int = 10, seed: UInt64 = 0) throws -> Sequential {
    let model = try network(inputShape, classes, seed)
    model.compile(optimizer: optimizer(learningRate), loss: loss)
    return model
  }

  /// The callbacks that carry out the recipe's schedule, whitening, rates and averaging,
  /// new for each run (the averaging's state belongs to its run).
  public func callbacks(for model: Sequential) -> [any Callback] {
    var out: [any Callback] = []
    if schedule != .constant { out.append(LearningRateScheduler(schedule)) }
    if offsetRateMultiplier != 1 {
      out.append(RateMultiplier(offsetRateMultiplier, parameter: "beta", of: BatchNormalization.self))
    }
    if let i = WhiteningFromData.layerIndex(in: model) {
      out.append(WhiteningFromData())
      if let epochs = whiteningBiasEpochs, (model.layers[i] as? Conv2D)?.useBias == true {
        out.append(TrainUntil(epoch: epochs, parameters: ["\(model.layerNames[i]).bias"]))
      }
    }
    if weightAveraging { out.append(WeightAveraging()) }
    return out
  }

  /// The steps of a run on `count` examples: whole epochs, the last one possibly cut short.
  public func totalSteps(examples count: Int) throws -> Int {
    try validate()
    let perEpoch = dropRemainder ? count / batchSize : (count + batchSize - 1) / batchSize
    return Int((Double(perEpoch) * epochs).rounded(.up))
  }

  /// Epochs from above 0 to 10,000 and a batch of at least 1, or a clear error.
  func validate() throws {
    guard epochs > 0, epochs <= 10_000 else {
      throw TrainingError.badOptions("epochs must be above 0 and at most 10000, got \(epochs)")
    }
    guard batchSize > 0 else { throw TrainingError.badOptions("batch size must be at least 1, got \(batchSize)") }
  }

  /// Trains `model` (from `makeModel`) on `data` by the recipe. `callbacks` are the recipe's
  /// (`callbacks(for:)`, made here when nil: give them to resume, after loading their state)
  /// followed by `extra` ones (progress, checkpoints).
  @discardableResult
  public func train(
    _ model: Sequential, on data: ImageDataset, validation: (any BatchSource)? = nil, seed: UInt64 = 0,
    initialEpoch: Int = 0, callbacks: [any Callback]? = nil, extra: [any Callback] = [], verbose: Bool = false,
    group: (any ProcessGroup)? = nil
  ) throws -> [EpochResult] {
    let total = try totalSteps(examples: data.count)
    let source: any BatchSource = augmentation == .none ? data : try data.augmented(augmentation)
    return try model.fit(
      source, epochs: Int(epochs.rounded(.up)), batchSize: batchSize, seed: seed, initialEpoch: initialEpoch,
      validation: validation, dropRemainder: dropRemainder, totalSteps: total,
      callbacks: (callbacks ?? self.callbacks(for: model)) + extra, verbose: verbose, group: group)
  }

  /// The evaluation after training, with the recipe's test-time views.
  public func finalEvaluation(of model: Sequential, on data: any BatchSource, group: (any ProcessGroup)? = nil)
    throws -> Evaluation
  {
    try model.evaluate(data, batchSize: 500, testTimeAugmentation: testTimeAugmentation, group: group)
  }
}

extension Recipe {
  /// The recipe of a zoo model by name (`Zoo.names`): fast93 and fast94 as below, the seed
  /// model (or `tiny`, with any `pooling`) as the Keras tutorials train it: Adam at 0.001, cross-entropy
  /// on the softmax's probabilities, 10 epochs of batch 32, nothing else.
  public static func zoo(_ name: String, pooling: PoolingChoice = .max) throws -> Recipe {
    if name == "fast93" || name == "fast94" {
      guard pooling == .max else { throw ModelError("\(name)'s recipe has its own pooling") }
      return name == "fast93" ? fast93 : fast94
    }
    return Recipe(
      network: { try Zoo.model(name, inputShape: $0, classes: $1, seed: $2, pooling: pooling) },
      optimizer: { Adam(learningRate: $0) }, learningRate: 0.001,
      loss: .sparseCategoricalCrossentropy(fromLogits: false),
      epochs: 10, batchSize: 32, dropRemainder: false, schedule: .constant, augmentation: .none, weightAveraging: false,
      whiteningBiasEpochs: nil, offsetRateMultiplier: 1, testTimeAugmentation: .none)
  }

  /// The fast CIFAR-10 recipe of `torch_fast.py` on the 64/128/128 network, 11 epochs.
  public static var fast93: Recipe { fast(widths: [64, 128, 128], epochs: 11) }
  /// The same on the 64/256/256 network, 9.9 epochs.
  public static var fast94: Recipe { fast(widths: [64, 256, 256], epochs: 9.9) }

  /// The rate for a mean (not summed) loss: PyTorch's 11.5 per 1024 · (1 + 1/(1 − 0.85))
  /// examples on a summed loss, times the batch of 1024.
  public static let fastLearningRate: Float = 11.5 / (1 + 1 / (1 - 0.85))
  /// The weight decay, 0.0153 per 1,024 · (1 + 1/(1 − 0.85)) examples, as the coefficient of
  /// PyTorch's coupled decay per unit of the rate above (`SGD.Formulation.pytorch`).
  public static let fastWeightDecay: Float = 0.0153 / (1 + 1 / (1 - 0.85)) / fastLearningRate

  /// SGD with Nesterov momentum 0.85 in PyTorch's formulation, a triangular schedule, label
  /// smoothing 0.2, translation by 2 with alternating flips, whole batches of 1,024, the
  /// whitening bias trained for 3 epochs, batch norm's offsets at 64 times the rate, weight
  /// averaging and the six test-time views.
  static func fast(widths: [Int], epochs: Double) -> Recipe {
    Recipe(
      network: { try Zoo.fastNetwork(widths: widths, inputShape: $0, classes: $1, seed: $2) },
      optimizer: {
        SGD(learningRate: $0, momentum: 0.85, nesterov: true, weightDecay: fastWeightDecay, formulation: .pytorch)
      },
      learningRate: fastLearningRate, loss: .sparseCategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2),
      epochs: epochs, batchSize: 1024, dropRemainder: true,
      schedule: .piecewiseLinear([.init(0, 0.2), .init(0.23, 1), .init(1, 0.07)]),
      augmentation: Augmentation(translate: 2, flip: .alternating), weightAveraging: true, whiteningBiasEpochs: 3,
      offsetRateMultiplier: 64, testTimeAugmentation: .mirrorTranslate)
  }
}
