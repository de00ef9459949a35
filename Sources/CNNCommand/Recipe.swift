import CNN
import Foundation

/// How `cnn train` trains a zoo model: the seed model as the tutorials do (Adam, cross-entropy
/// on probabilities), fast93/fast94 with the fast recipe of `torch_fast.py`'s definition.
struct TrainingPlan {
  let optimizer: any Optimizer
  let loss: Loss
  let schedule: LearningRateSchedule
  let augmentation: Augmentation
  let finalTestTimeAugmentation: TestTimeAugmentation
  /// The recipe's weight averaging; nil for the seed model.
  let averaging: WeightAveraging?
  /// Whether each epoch's last, partial batch is left out (the recipe's 48 steps of 1,024).
  let dropRemainder: Bool
  let summary: String

  /// The defaults a model's recipe gives `--epochs`, `--batch-size` and `--learning-rate`.
  static func defaults(for model: String) -> (epochs: Double, batchSize: Int, learningRate: Float) {
    switch model {
    case "fast93": return (11, 1024, fastLearningRate)
    case "fast94": return (9.9, 1024, fastLearningRate)
    default: return (10, 32, 0.001)
    }
  }

  /// The recipe's rate for a mean (not summed) loss: PyTorch's 11.5 per 1024 · (1 + 1/(1 − 0.85))
  /// examples on a summed loss, times the batch of 1024.
  static let fastLearningRate: Float = 11.5 / (1 + 1 / (1 - 0.85))
  /// The recipe's weight decay, 0.0153 per 1,024 · (1 + 1/(1 − 0.85)) examples, as the
  /// coefficient of PyTorch's coupled decay per unit of the rate above (`SGD.Formulation.pytorch`).
  static let fastWeightDecay: Float = 0.0153 / (1 + 1 / (1 - 0.85)) / fastLearningRate

  init(model: String, learningRate: Float) {
    if model.hasPrefix("fast") {
      optimizer = SGD(
        learningRate: learningRate, momentum: 0.85, nesterov: true, weightDecay: TrainingPlan.fastWeightDecay,
        formulation: .pytorch)
      loss = .sparseCategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2)
      schedule = .piecewiseLinear([.init(0, 0.2), .init(0.23, 1), .init(1, 0.07)])
      augmentation = Augmentation(translate: 2, flip: .alternating)
      finalTestTimeAugmentation = .mirrorTranslate
      averaging = WeightAveraging()
      dropRemainder = true
      summary =
        "SGD Nesterov 0.85 lr \(learningRate) (triangle 0.2 -> 1 -> 0.07), label smoothing 0.2, translate 2 + alternating flips, weight averaging"
    } else {
      optimizer = Adam(learningRate: learningRate)
      loss = .sparseCategoricalCrossentropy(fromLogits: false)
      schedule = .constant
      augmentation = .none
      finalTestTimeAugmentation = .none
      averaging = nil
      dropRemainder = false
      summary = "Adam lr \(learningRate)"
    }
  }

  /// At the start of each epoch: the fast recipe trains the whitening bias in the first 3
  /// epochs only.
  func epochBegan(_ epoch: Int, model: Sequential, named name: String) {
    guard name.hasPrefix("fast"), let whitening = model.layers[1] as? Conv2D, let bias = whitening.bias else { return }
    bias.requiresGrad = epoch <= 3
  }

  /// Before a new fast-recipe run: the whitening kernel from the training images, and the
  /// batch-norm offsets' 64-fold learning rate.
  func prepare(_ model: Sequential, named name: String, data: ImageDataset, resuming: Bool) throws {
    guard name.hasPrefix("fast") else { return }
    for (parameter, v) in model.namedTrainableParameters
    where parameter.hasPrefix("batch_normalization") && parameter.hasSuffix(".beta") {
      v.learningRateMultiplier = 64
    }
    guard !resuming, let whitening = model.layers[1] as? Conv2D else { return }
    let normalize = model.layers[0]
    let kernel = try Whitening.kernel(from: data) { try normalize(Variable($0)).value }
    try whitening.setWeights([kernel, Tensor(zeros: [whitening.filters])])
  }
}
