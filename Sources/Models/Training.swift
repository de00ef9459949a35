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
  /// The learning rate of the epoch's last step, when a `LearningRateScheduler` ran.
  public var learningRate: Double?
  /// The compiled metrics over the epoch's training batches, and on the validation data.
  public var metrics: [String: Double]?
  public var testMetrics: [String: Double]?
  /// On several processes: the seconds of the epoch's training steps spent exchanging sums
  /// (gradients, batch norm's statistics, the loss), waits for slower processes included.
  public var communicationSeconds: Double?
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
  /// source of labelled examples (`imageDataset.augmented(...)` for augmented images). Each
  /// epoch's order is drawn from (seed, epoch), so a run resumed at an epoch boundary sees
  /// exactly the batches an uninterrupted run would. `dropRemainder` leaves out each epoch's
  /// last, partial batch; `totalSteps` ends the run after that many steps (the last epoch stops
  /// early: fractional epochs; schedules span them). `callbacks` run in order at each step and
  /// epoch (schedules, weight averaging, checkpoints, ...); `verbose` puts Keras's progress bar
  /// first. The optimizer's rate is set back after. With a `group` of processes
  /// (`Distributed.mpi()`), each runs this on the same data and takes its shards of every
  /// batch (see `BatchShards`): the weights come out bit for bit as on one process.
  @discardableResult
  public func fit(
    _ data: any BatchSource, epochs: Int, batchSize: Int = 32, seed: UInt64 = 0, initialEpoch: Int = 0,
    validation: (any BatchSource)? = nil, shuffle: Bool = true, dropRemainder: Bool = false, totalSteps: Int? = nil,
    callbacks: [any Callback] = [], verbose: Bool = false, group: (any ProcessGroup)? = nil
  ) throws -> [EpochResult] {
    guard let optimizer, loss != nil else { throw TrainingError.notCompiled }
    try checkFitting(data, validation: validation, epochs: epochs, batchSize: batchSize, initialEpoch: initialEpoch)
    let group = group.flatMap { $0.size > 1 ? TimedGroup($0) : nil }
    if let group {
      try checkSharing(group, batchSize: batchSize, lastBatch: dropRemainder ? 0 : data.count % batchSize)
      try checkShardable()
    }
    let batchCount = dropRemainder ? data.count / batchSize : (data.count + batchSize - 1) / batchSize
    guard batchCount > 0 else {
      throw TrainingError.badOptions("\(data.count) examples make no whole batch of \(batchSize)")
    }
    let total = totalSteps ?? epochs * batchCount
    guard total > 0, total <= epochs * batchCount else {
      throw TrainingError.badOptions(
        "total steps must be from 1 to \(epochs * batchCount) (\(epochs) epochs of \(batchCount) steps), got \(total)")
    }
    let context = TrainingContext(
      model: self, optimizer: optimizer, data: data, epochs: epochs, totalSteps: total, stepsPerEpoch: batchCount,
      initialEpoch: initialEpoch)
    context.callbacks = (verbose ? [ProgressBar()] : []) + callbacks
    defer { optimizer.learningRate = context.baseLearningRate }
    guard initialEpoch < epochs else { return [] }
    for c in context.callbacks { try c.trainingBegan(context) }
    var results: [EpochResult] = []
    for epoch in (initialEpoch + 1)...epochs {
      let steps = min(batchCount, total - (epoch - 1) * batchCount)
      if steps <= 0 || context.stopTraining { break }
      (context.epoch, context.step, context.stepsThisEpoch) = (epoch, (epoch - 1) * batchCount, steps)
      for c in context.callbacks { try c.epochBegan(context) }
      if context.stopTraining { break }
      let order = epochOrder(count: data.count, seed: seed, epoch: epoch, shuffle: shuffle)
      guard var result = try trainEpoch(context, order: order, batchSize: batchSize, seed: seed, group: group)
      else { break }
      if let validation {
        let e = try evaluate(validation, group: group)
        _ = group?.takeSeconds()
        result.testLoss = e.loss
        result.testAccuracy = e.accuracy
        result.testMetrics = metrics.isEmpty ? nil : e.metrics
      }
      for c in context.callbacks { try c.epochEnded(context, &result) }
      results.append(result)
    }
    return results
  }

  /// The options of `fit` that do not depend on each other, checked before anything runs.
  private func checkFitting(
    _ data: any BatchSource, validation: (any BatchSource)?, epochs: Int, batchSize: Int, initialEpoch: Int
  ) throws {
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
  }

  /// The steps of `context.epoch` over the examples in `order`; nil when a callback stopped
  /// training before the epoch's end.
  private func trainEpoch(
    _ context: TrainingContext, order: [Int], batchSize: Int, seed: UInt64, group: TimedGroup?
  ) throws -> EpochResult? {
    let (epoch, steps) = (context.epoch, context.stepsThisEpoch)
    let shardCount = BatchShards.count(forBatch: batchSize)
    let start = Date()
    var (lossSum, correct, seen) = (0.0, 0, 0)
    var metricSums = MetricSums(metrics)
    for b in 0..<steps {
      context.step += 1
      for c in context.callbacks { try c.batchBegan(context) }
      if context.stopTraining { return nil }
      let indices = order[(b * batchSize)..<min(order.count, (b + 1) * batchSize)]
      // Every batch of the run, the last one too, is cut into the shards of a whole batch.
      let shards = BatchShards(
        globalSize: indices.count, count: shardCount,
        held: BatchShards.held(rank: group?.rank ?? 0, of: group?.size ?? 1, shards: shardCount), group: group)
      let held = indices.dropFirst(shards.heldExamples.lowerBound).prefix(shards.localSize)
      let (inputs, labels) = try context.data.batch(held, seed: seed, epoch: epoch)
      let (l, c, outputs) = try step(inputs, labels: labels, shards: shards)
      guard l.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, batch: b + 1, loss: l) }
      lossSum += Double(l) * Double(indices.count)
      correct += try group.map { Int(try groupSum([Double(c)], over: $0)[0]) } ?? c
      seen += indices.count
      metricSums.add(outputs, labels)
      let progress = BatchProgress(
        batch: b + 1, batches: steps, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
        seconds: Date().timeIntervalSince(start))
      for c in context.callbacks { try c.batchEnded(context, progress) }
      // A stop on the epoch's last step still finishes the epoch: its steps are all done.
      if context.stopTraining && b + 1 < steps { return nil }
    }
    if let group { try metricSums.combine(over: group) }
    let seconds = Date().timeIntervalSince(start)
    return EpochResult(
      epoch: epoch, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
      testLoss: nil, testAccuracy: nil, seconds: seconds, imagesPerSecond: Double(seen) / seconds,
      learningRate: nil, metrics: metricSums.means, communicationSeconds: group?.takeSeconds())
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
