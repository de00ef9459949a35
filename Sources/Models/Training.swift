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
  /// The compiled metrics over the epoch's training batches, and on the validation data.
  public var metrics: [String: Double]?
  public var testMetrics: [String: Double]?
  /// On several processes: the seconds of the epoch's training steps spent exchanging sums
  /// (gradients, batch norm's statistics, the loss), waits for slower processes included.
  public var communicationSeconds: Double?
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
  /// The compiled metrics, by name.
  public var metrics: [String: Double] = [:]
}

extension Sequential {
  /// One optimisation step on a batch; returns the batch's mean loss and correct count.
  public func trainStep(_ images: Tensor, labels: [Int]) throws -> (loss: Float, correct: Int) {
    let (l, correct, _) = try step(images, labels: labels)
    return (l, correct)
  }

  /// `trainStep`, also returning the model's outputs.
  /// With `shards` in a group, `inputs` are this process's shards of the batch: the loss is
  /// the whole batch's, the correct count this process's.
  private func step(_ inputs: Tensor, labels: [Int], shards: BatchShards? = nil) throws -> (
    loss: Float, correct: Int, outputs: Tensor
  ) {
    guard let optimizer, let loss else { throw TrainingError.notCompiled }
    let tape = Tape(shards: shards)
    let output = try self(tape.input(inputs))
    let l = try loss(output, labels: labels)
    let correct = zip(output.value.argmaxRows(), labels).filter { $0 == $1 }.count
    let value = l.value[0]
    guard value.isFinite else { return (value, correct, output.value) }
    try tape.backward(l)
    if let group = shards?.group, group.size > 1 { try combineGradients(trainableVariables, over: group) }
    try optimizer.step(trainableVariables)
    return (value, correct, output.value)
  }

  /// Trains for epochs `initialEpoch + 1 ... epochs` (1-based, as Keras prints them) on any
  /// source of labelled examples. Each epoch's order is drawn from (seed, epoch), so a run
  /// resumed at an epoch boundary sees exactly the batches an uninterrupted run would.
  /// `augmentation` applies to an `ImageDataset` (see `AugmentedImages`). With a `schedule`,
  /// the optimizer's rate at each step is its rate at the call times the schedule's factor at
  /// that step (counted from the run's first epoch, so a resumed run continues the schedule);
  /// it is set back after. `dropRemainder` leaves out each epoch's last, partial batch;
  /// `totalSteps` ends the run after that many steps (the last epoch stops early: fractional
  /// epochs), and the schedule spans them. `averaging` averages the weights as it says.
  /// `verbose` prints Keras's progress bar; `observer` gets the same events. With a `group`
  /// of processes (`Distributed.mpi()`), each runs this on the same data and takes its shards
  /// of every batch (see `BatchShards`): the weights come out bit for bit as on one process.
  @discardableResult
  public func fit(
    _ data: any BatchSource, epochs: Int, batchSize: Int = 32, seed: UInt64 = 0, initialEpoch: Int = 0,
    validation: (any BatchSource)? = nil, shuffle: Bool = true, dropRemainder: Bool = false,
    totalSteps: Int? = nil, schedule: LearningRateSchedule = .constant, augmentation: Augmentation = .none,
    averaging: WeightAveraging? = nil, verbose: Bool = false, observer: (any TrainingObserver)? = nil,
    group: (any ProcessGroup)? = nil, shouldStop: () -> Bool = { false }
  ) throws -> [EpochResult] {
    guard let optimizer, loss != nil else { throw TrainingError.notCompiled }
    let group = group.flatMap { $0.size > 1 ? TimedGroup($0) : nil }
    if let group {
      try checkSharing(group, batchSize: batchSize, lastBatch: dropRemainder ? 0 : data.count % batchSize)
      try checkShardable()
    }
    try schedule.validate()
    let source = try augmented(data, augmentation)
    guard epochs > 0 else { throw TrainingError.badOptions("epochs must be at least 1, got \(epochs)") }
    guard batchSize > 0 else { throw TrainingError.badOptions("batch size must be at least 1, got \(batchSize)") }
    guard data.count > 0 else { throw TrainingError.badOptions("the training set is empty") }
    guard data.exampleShape == inputShape else {
      throw ModelError("the data's examples are \(data.exampleShape), the model expects \(inputShape)")
    }
    guard initialEpoch >= 0 else { throw TrainingError.badOptions("initial epoch must not be negative") }
    if let validation, validation.exampleShape != inputShape {
      throw ModelError("the validation examples are \(validation.exampleShape), the model expects \(inputShape)")
    }
    if Set(metrics.map(\.name)).count != metrics.count {
      throw TrainingError.badOptions("two compiled metrics have the same name: \(metrics.map(\.name))")
    }
    let observers: [any TrainingObserver] = (verbose ? [ProgressBar()] : []) + (observer.map { [$0] } ?? [])
    let baseRate = optimizer.learningRate
    defer { optimizer.learningRate = baseRate }
    var results: [EpochResult] = []
    guard initialEpoch < epochs else { return results }
    let batchCount = dropRemainder ? data.count / batchSize : (data.count + batchSize - 1) / batchSize
    guard batchCount > 0 else {
      throw TrainingError.badOptions("\(data.count) examples make no whole batch of \(batchSize)")
    }
    let total = totalSteps ?? epochs * batchCount
    guard total > 0, total <= epochs * batchCount else {
      throw TrainingError.badOptions(
        "total steps must be from 1 to \(epochs * batchCount) (\(epochs) epochs of \(batchCount) steps), got \(total)")
    }
    try averaging?.validate()
    let shardCount = BatchShards.count(forBatch: batchSize)
    for epoch in (initialEpoch + 1)...epochs {
      let steps = min(batchCount, total - (epoch - 1) * batchCount)
      if steps <= 0 { break }
      let order = epochOrder(count: data.count, seed: seed, epoch: epoch, shuffle: shuffle)
      for o in observers { o.epochBegan(epoch, of: epochs, batches: steps) }
      let start = Date()
      var (lossSum, correct, seen) = (0.0, 0, 0)
      var metricSums = MetricSums(metrics)
      for b in 0..<steps {
        if shouldStop() { throw TrainingError.interrupted(epoch: epoch) }
        let stepIndex = (epoch - 1) * batchCount + b
        if schedule != .constant {
          optimizer.learningRate = baseRate * schedule.factor(step: stepIndex, totalSteps: total)
        }
        let indices = order[(b * batchSize)..<min(order.count, (b + 1) * batchSize)]
        // Every batch of the run, the last one too, is cut into the shards of a whole batch.
        let shards = BatchShards(
          globalSize: indices.count, count: shardCount,
          held: BatchShards.held(rank: group?.rank ?? 0, of: group?.size ?? 1, shards: shardCount), group: group)
        let held = indices.dropFirst(shards.heldExamples.lowerBound).prefix(shards.localSize)
        let (inputs, labels) = try source.batch(held, seed: seed, epoch: epoch)
        let (l, c, outputs) = try step(inputs, labels: labels, shards: shards)
        guard l.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, batch: b + 1, loss: l) }
        lossSum += Double(l) * Double(indices.count)
        correct += try group.map { Int(try groupSum([Double(c)], over: $0)[0]) } ?? c
        seen += indices.count
        metricSums.add(outputs, labels)
        averaging?.update(self, epoch: epoch, step: stepIndex + 1, totalSteps: total)
        let elapsed = Date().timeIntervalSince(start)
        for o in observers {
          o.batchEnded(
            b + 1, of: steps, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
            seconds: elapsed)
        }
      }
      if let group { try metricSums.combine(over: group) }
      let seconds = Date().timeIntervalSince(start)
      let communication = group?.takeSeconds()
      var result = EpochResult(
        epoch: epoch, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
        testLoss: nil, testAccuracy: nil, seconds: seconds, imagesPerSecond: Double(seen) / seconds,
        learningRate: schedule == .constant ? nil : Double(optimizer.learningRate), metrics: metricSums.means,
        communicationSeconds: communication)
      if let validation {
        let e = try evaluate(validation, group: group)
        _ = group?.takeSeconds()
        result.testLoss = e.loss
        result.testAccuracy = e.accuracy
        result.testMetrics = metrics.isEmpty ? nil : e.metrics
      }
      for o in observers { try o.epochEnded(result) }
      results.append(result)
    }
    return results
  }

  /// The source `fit` draws from: `data` itself, or its images augmented.
  private func augmented(_ data: any BatchSource, _ augmentation: Augmentation) throws -> any BatchSource {
    guard augmentation != .none else { return data }
    guard let images = data as? ImageDataset else {
      throw TrainingError.badOptions("augmentation needs an ImageDataset, got a \(type(of: data))")
    }
    return try AugmentedImages(images, augmentation: augmentation)
  }

  /// Outputs for a batch of images [N] + inputShape, in inference mode (no tape).
  public func predict(_ images: Tensor) throws -> Tensor {
    try self(Variable(images)).value
  }

  /// Loss (if compiled), accuracy, compiled metrics and predicted classes over a dataset, in
  /// inference mode, on the outputs averaged over the views of `testTimeAugmentation`. With a
  /// `group`, process r evaluates batches r, r + N, ..., and their results are gathered and
  /// added in batch order: the same evaluation, on every process, as on one.
  public func evaluate(
    _ data: any BatchSource, batchSize: Int = 100, testTimeAugmentation: TestTimeAugmentation = .none,
    group: (any ProcessGroup)? = nil
  ) throws -> Evaluation {
    guard batchSize > 0 else { throw TrainingError.badOptions("batch size must be at least 1") }
    guard data.exampleShape == inputShape else {
      throw ModelError("the data's examples are \(data.exampleShape), the model expects \(inputShape)")
    }
    let batches = (data.count + batchSize - 1) / batchSize
    // A batch's record: its loss times its size, its correct count, each metric times its
    // size, and its predictions (-1 past its end).
    let width = 2 + metrics.count + batchSize
    var mine: [Double] = []
    for b in stride(from: group?.rank ?? 0, to: batches, by: group?.size ?? 1) {
      let indices = Array((b * batchSize)..<min(data.count, (b + 1) * batchSize))
      let (x, labels) = try data.batch(indices[...], seed: 0, epoch: 0)
      let out = Variable(try predict(x, testTimeAugmentation: testTimeAugmentation))
      let size = Double(labels.count)
      let predicted = out.value.argmaxRows()
      mine.append(try loss.map { Double(try $0(out, labels: labels).value[0]) * size } ?? 0)
      mine.append(Double(zip(predicted, labels).filter { $0 == $1 }.count))
      mine += metrics.map { $0(out.value, labels: labels) * size }
      mine += predicted.map(Double.init) + repeatElement(-1, count: batchSize - predicted.count)
    }
    var predictions: [Int] = []
    predictions.reserveCapacity(data.count)
    var (lossSum, correct) = (0.0, 0)
    var metricSums = MetricSums(metrics)
    for (b, record) in try gatherBatches(mine, width: width, batches: batches, over: group).enumerated() {
      let size = min(batchSize, data.count - b * batchSize)
      lossSum += record[record.startIndex]
      correct += Int(record[record.startIndex + 1])
      metricSums.add(record.dropFirst(2).prefix(metrics.count), count: size)
      predictions += record.dropFirst(2 + metrics.count).prefix(size).map { Int($0) }
    }
    let n = Double(max(data.count, 1))
    return Evaluation(
      loss: lossSum / n, accuracy: Double(correct) / n, predictions: predictions, metrics: metricSums.means ?? [:])
  }
}
