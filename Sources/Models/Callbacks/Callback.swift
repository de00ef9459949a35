import Datasets
import Optimizers
import Tensors

/// Something `fit` calls as it trains, as Keras's callbacks: it sees the model, its optimizer,
/// the epoch and the step through the `TrainingContext`, may change the learning rate, the
/// trainable flags or the weights, may stop training (`context.stopTraining`, or a throw),
/// and may keep state in checkpoints. Every method does nothing by default. Callbacks run in
/// the order given to `fit`.
public protocol Callback: AnyObject {
  /// Before the first epoch `fit` runs (after a resume's load, with `context.epoch` the
  /// epoch the run continues from).
  func trainingBegan(_ context: TrainingContext) throws
  func epochBegan(_ context: TrainingContext) throws
  /// Before each optimisation step; `context.step` is the step about to run.
  func batchBegan(_ context: TrainingContext) throws
  /// After each step, with the epoch's running figures.
  func batchEnded(_ context: TrainingContext, _ progress: BatchProgress) throws
  /// After the epoch's evaluation; the callback may add to the result, which `fit` returns.
  func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws

  /// The first part of the names of the tensors it keeps in checkpoints ("averaged" for
  /// `averaged.conv2d.kernel`); nil when it keeps none. It must not be a layer's name.
  var stateName: String? { get }
  /// Its state as tensors named `stateName` + "." + anything.
  func state(of model: Sequential) -> [String: Tensor]
  /// Restores its state from a checkpoint's tensors under its `stateName` (empty when the
  /// checkpoint holds none: the state starts afresh).
  func restore(_ tensors: [String: Tensor], of model: Sequential) throws
}

extension Callback {
  public func trainingBegan(_ context: TrainingContext) throws {}
  public func epochBegan(_ context: TrainingContext) throws {}
  public func batchBegan(_ context: TrainingContext) throws {}
  public func batchEnded(_ context: TrainingContext, _ progress: BatchProgress) throws {}
  public func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws {}
  public var stateName: String? { nil }
  public func state(of model: Sequential) -> [String: Tensor] { [:] }
  public func restore(_ tensors: [String: Tensor], of model: Sequential) throws {}
}

/// What a callback sees while `fit` runs. Epochs and steps count from 1 over the whole run,
/// as Keras prints them: a resumed run goes on counting.
public final class TrainingContext {
  public let model: Sequential
  public let optimizer: any Optimizer
  /// The training data as given to `fit`.
  public let data: any BatchSource
  /// The run's epochs, its steps, and the steps of a whole epoch.
  public let epochs: Int
  public let totalSteps: Int
  public let stepsPerEpoch: Int
  /// The optimizer's rate when `fit` began, to which it is set back at the end.
  public let baseLearningRate: Float
  /// Every callback of the run, in order (a checkpoint saves their states).
  public internal(set) var callbacks: [any Callback] = []
  /// The current epoch (the last finished one before the first epoch begins) and the current
  /// step over the run (the one about to run in `batchBegan`, the one done in `batchEnded`).
  public internal(set) var epoch: Int
  public internal(set) var step: Int
  /// The steps of the current epoch (the last one may stop early).
  public internal(set) var stepsThisEpoch = 0
  /// Set it to end training: before the step about to run when set in `epochBegan` or
  /// `batchBegan`, after the current step otherwise. An epoch whose steps all ran is finished
  /// (evaluated, `epochEnded` called); `fit` returns the finished epochs.
  public var stopTraining = false

  init(
    model: Sequential, optimizer: any Optimizer, data: any BatchSource, epochs: Int, totalSteps: Int,
    stepsPerEpoch: Int, initialEpoch: Int
  ) {
    self.model = model
    self.optimizer = optimizer
    self.data = data
    self.epochs = epochs
    self.totalSteps = totalSteps
    self.stepsPerEpoch = stepsPerEpoch
    self.epoch = initialEpoch
    self.step = initialEpoch * stepsPerEpoch
    baseLearningRate = optimizer.learningRate
  }
}

/// An epoch's running figures after a step.
public struct BatchProgress: Sendable {
  /// The step within the epoch (1-based) and the epoch's steps.
  public var batch: Int
  public var batches: Int
  /// Mean loss and accuracy over the epoch's examples so far.
  public var loss: Double
  public var accuracy: Double
  /// Seconds since the epoch began.
  public var seconds: Double
}
