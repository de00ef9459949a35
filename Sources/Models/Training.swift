import Autograd
import Datasets
import Foundation
import Layers
import Optimizers
import Tensors

/// What one epoch of `fit` measured.
public struct EpochResult: Codable, Equatable, Sendable {
  public var epoch: Int
  public var loss: Double
  public var accuracy: Double
  public var testLoss: Double?
  public var testAccuracy: Double?
  public var seconds: Double
  public var imagesPerSecond: Double
  /// The learning rate of the epoch's last step, when a schedule ran.
  public var learningRate: Double?
}

/// Hooks `fit` calls as it goes: progress output, checkpoints, metrics logs.
public protocol TrainingObserver: AnyObject {
  func epochBegan(_ epoch: Int, of epochs: Int, batches: Int)
  func batchEnded(_ batch: Int, of batches: Int, loss: Double, accuracy: Double, seconds: Double)
  /// Called after the epoch's evaluation; a throw stops training.
  func epochEnded(_ result: EpochResult) throws
}

extension TrainingObserver {
  public func epochBegan(_ epoch: Int, of epochs: Int, batches: Int) {}
  public func batchEnded(_ batch: Int, of batches: Int, loss: Double, accuracy: Double, seconds: Double) {}
  public func epochEnded(_ result: EpochResult) throws {}
}

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible {
  case notCompiled
  case nonFiniteLoss(epoch: Int, batch: Int, loss: Float)
  case interrupted(epoch: Int)
  case badOptions(String)

  public var description: String {
    switch self {
    case .notCompiled: return "the model has no optimizer and loss: call compile(optimizer:loss:) first"
    case .nonFiniteLoss(let e, let b, let l):
      return
        "training stopped: the loss became \(l) at epoch \(e), batch \(b) (try a lower learning rate); the last good checkpoint is kept"
    case .interrupted(let e): return "training interrupted during epoch \(e); the last checkpoint is kept"
    case .badOptions(let m): return m
    }
  }
}

/// Evaluation of a model on a dataset.
public struct Evaluation: Sendable {
  public var loss: Double
  public var accuracy: Double
  public var predictions: [Int]
}

extension Sequential {
  /// One optimisation step on a batch; returns the batch's mean loss and correct count.
  public func trainStep(_ images: Tensor, labels: [Int]) throws -> (loss: Float, correct: Int) {
    guard let optimizer, let loss else { throw TrainingError.notCompiled }
    let tape = Tape()
    let output = try self(tape.input(images))
    let l = try loss(output, labels: labels)
    let correct = zip(output.value.argmaxRows(), labels).filter { $0 == $1 }.count
    let value = l.value[0]
    guard value.isFinite else { return (value, correct) }
    try tape.backward(l)
    try optimizer.step(parameters)
    return (value, correct)
  }

  /// Trains for epochs `initialEpoch + 1 ... epochs` (1-based, as Keras prints them). Each
  /// epoch's order is drawn from (seed, epoch), so a run resumed at an epoch boundary sees
  /// exactly the batches an uninterrupted run would. With a `schedule`, the optimizer's rate
  /// at each step is its rate at the call times the schedule's factor at that step (counted
  /// from the run's first epoch, so a resumed run continues the schedule); it is set back after.
  @discardableResult
  public func fit(
    _ data: ImageDataset, epochs: Int, batchSize: Int = 32, seed: UInt64 = 0, initialEpoch: Int = 0,
    validation: ImageDataset? = nil, shuffle: Bool = true, schedule: LearningRateSchedule = .constant,
    augmentation: Augmentation = .none, observer: (any TrainingObserver)? = nil, shouldStop: () -> Bool = { false }
  ) throws -> [EpochResult] {
    guard let optimizer, loss != nil else { throw TrainingError.notCompiled }
    try schedule.validate()
    try augmentation.validate(height: data.height, width: data.width)
    let baseRate = optimizer.learningRate
    defer { optimizer.learningRate = baseRate }
    guard epochs > 0 else { throw TrainingError.badOptions("epochs must be at least 1, got \(epochs)") }
    guard batchSize > 0 else { throw TrainingError.badOptions("batch size must be at least 1, got \(batchSize)") }
    guard data.count > 0 else { throw TrainingError.badOptions("the training set is empty") }
    guard data.imageShape == inputShape else {
      throw ModelError("the data's images are \(data.imageShape), the model expects \(inputShape)")
    }
    guard initialEpoch >= 0 else { throw TrainingError.badOptions("initial epoch must not be negative") }
    var results: [EpochResult] = []
    guard initialEpoch < epochs else { return results }
    for epoch in (initialEpoch + 1)...epochs {
      let batches = data.batches(
        size: batchSize, seed: seed, epoch: epoch, shuffle: shuffle, augmentation: augmentation)
      observer?.epochBegan(epoch, of: epochs, batches: batches.count)
      let start = Date()
      var lossSum = 0.0
      var correct = 0
      var seen = 0
      for (b, (images, labels)) in batches.enumerated() {
        if shouldStop() { throw TrainingError.interrupted(epoch: epoch) }
        if schedule != .constant {
          let step = (epoch - 1) * batches.count + b
          optimizer.learningRate = baseRate * schedule.factor(step: step, totalSteps: epochs * batches.count)
        }
        let (l, c) = try trainStep(images, labels: labels)
        guard l.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, batch: b + 1, loss: l) }
        lossSum += Double(l) * Double(labels.count)
        correct += c
        seen += labels.count
        observer?.batchEnded(
          b + 1, of: batches.count, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
          seconds: Date().timeIntervalSince(start))
      }
      let seconds = Date().timeIntervalSince(start)
      var result = EpochResult(
        epoch: epoch, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
        testLoss: nil, testAccuracy: nil, seconds: seconds, imagesPerSecond: Double(seen) / seconds,
        learningRate: schedule == .constant ? nil : Double(optimizer.learningRate))
      if let validation {
        let e = try evaluate(validation)
        result.testLoss = e.loss
        result.testAccuracy = e.accuracy
      }
      try observer?.epochEnded(result)
      results.append(result)
    }
    return results
  }

  /// Outputs for a batch of images [N] + inputShape, in inference mode (no tape).
  public func predict(_ images: Tensor) throws -> Tensor {
    try self(Variable(images)).value
  }

  /// Loss (if compiled), accuracy and predicted classes over a dataset, in inference mode,
  /// on the outputs averaged over the views of `testTimeAugmentation`.
  public func evaluate(
    _ data: ImageDataset, batchSize: Int = 100, testTimeAugmentation: TestTimeAugmentation = .none
  ) throws -> Evaluation {
    guard batchSize > 0 else { throw TrainingError.badOptions("batch size must be at least 1") }
    guard data.imageShape == inputShape else {
      throw ModelError("the data's images are \(data.imageShape), the model expects \(inputShape)")
    }
    var predictions: [Int] = []
    predictions.reserveCapacity(data.count)
    var lossSum = 0.0
    for (x, labels) in data.batches(size: batchSize, seed: 0, epoch: 0, shuffle: false) {
      let out = Variable(try predict(x, testTimeAugmentation: testTimeAugmentation))
      if let loss { lossSum += Double(try loss(out, labels: labels).value[0]) * Double(labels.count) }
      predictions += out.value.argmaxRows()
    }
    let correct = zip(predictions, data.labels).filter { $0 == Int($1) }.count
    return Evaluation(
      loss: lossSum / Double(max(data.count, 1)), accuracy: Double(correct) / Double(max(data.count, 1)),
      predictions: predictions)
  }
}
