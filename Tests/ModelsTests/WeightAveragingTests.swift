import CNN
import Foundation
import XCTest

/// Weight averaging, fractional runs and whole batches only, as the fast recipe trains.
final class WeightAveragingTests: XCTestCase {
  func compiled(_ seed: UInt64) throws -> Sequential {
    let m = try smallModel(seed: seed)
    m.compile(
      optimizer: SGD(learningRate: 0.05, momentum: 0.85, nesterov: true, weightDecay: 0.001, formulation: .pytorch),
      loss: .sparseCategoricalCrossentropy(fromLogits: false))
    return m
  }

  /// The average by hand: every 2 steps from epoch 2, 4 steps per epoch, 12 steps.
  func testAverageFollowsItsDefinition() throws {
    final class Watcher: Callback {
      var after: [[Float]] = []
      func batchEnded(_ context: TrainingContext, _ progress: BatchProgress) throws {
        after.append(context.model.namedParameters[0].variable.value.scalars)
      }
    }
    let data = try barsDataset(count: 40, seed: 3)
    let averaging = WeightAveraging(startEpoch: 2, every: 2, decay: 0.9, power: 1)
    let m = try compiled(1)
    let plain = try compiled(1)
    let watcher = Watcher()
    try m.fit(data, epochs: 3, batchSize: 10, seed: 5, callbacks: [averaging, watcher])
    // The same run without averaging: steps 1-7 are the same (the first update, after step 6,
    // only starts the average at the weights); step 8's update sets the weights to the average.
    let watchPlain = Watcher()
    try plain.fit(data, epochs: 3, batchSize: 10, seed: 5, callbacks: [watchPlain])
    XCTAssertEqual(Array(watcher.after[0..<7]), Array(watchPlain.after[0..<7]), "no change until the second update")
    XCTAssertNotEqual(watcher.after[7], watchPlain.after[7])
    let average = try XCTUnwrap(averaging.average)
    XCTAssertEqual(average.count, m.namedParameters.count)
    // After the last update (step 12) the weights are the average.
    XCTAssertEqual(average[0].scalars, m.namedParameters[0].variable.value.scalars)
    XCTAssertNotEqual(watcher.after[11], watchPlain.after[11])
  }

  func testOneUpdateByHand() throws {
    // One parameter, weights w: the first update copies, the next moves by (1 − ρ).
    let model = try Sequential(inputShape: [1], seed: 0) { Dense(units: 1, useBias: false) }
    let w = model.namedParameters[0].variable
    let averaging = WeightAveraging(startEpoch: 1, every: 1, decay: 0.5, power: 1)
    w.value[0] = 2
    averaging.update(model, epoch: 1, step: 1, totalSteps: 4)
    w.value[0] = 4
    averaging.update(model, epoch: 1, step: 2, totalSteps: 4)
    // ρ = 0.5 · (2/4) = 0.25: 2 + 0.75 · (4 − 2) = 3.5, and the weight is set to it.
    XCTAssertEqual(averaging.average?[0][0], 3.5)
    XCTAssertEqual(w.value[0], 3.5)
  }

  func testResumedRunWithAveragingMatchesTheStraightRun() throws {
    let data = try barsDataset(count: 64, seed: 1)
    let schedule = LearningRateSchedule.piecewiseLinear([.init(0, 0.2), .init(0.3, 1), .init(1, 0.1)])
    func run(_ m: Sequential, _ averaging: WeightAveraging, from: Int, also: [any Callback] = []) throws {
      try m.fit(
        data, epochs: 5, batchSize: 10, seed: 2, initialEpoch: from, dropRemainder: true, totalSteps: 28,
        callbacks: [LearningRateScheduler(schedule), averaging] + also)
    }
    let straight = try compiled(4)
    let straightAveraging = WeightAveraging(startEpoch: 2, every: 3)
    try run(straight, straightAveraging, from: 0)

    let path = tempPath("averaging.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let first = try compiled(4)
    try run(first, WeightAveraging(startEpoch: 2, every: 3), from: 0, also: [SaveAndStop(after: 3, to: path)])
    let resumed = try compiled(9)
    let resumedAveraging = WeightAveraging(startEpoch: 2, every: 3)
    try resumed.load(from: path, restoreOptimizer: true, callbacks: [resumedAveraging])
    XCTAssertNotNil(resumedAveraging.average, "the average comes back from the checkpoint")
    try run(resumed, resumedAveraging, from: 3)
    XCTAssertEqual(weights(resumed), weights(straight))
    XCTAssertEqual(resumedAveraging.average?.map(\.scalars), straightAveraging.average?.map(\.scalars))
  }

  func testWholeBatchesAndFractionalRuns() throws {
    final class Counter: Callback {
      var perEpoch: [Int] = []
      func epochBegan(_ context: TrainingContext) throws { perEpoch.append(context.stepsThisEpoch) }
    }
    let data = try barsDataset(count: 64, seed: 1)
    let counter = Counter()
    // 64 images in batches of 10: 6 whole ones per epoch; 2.5 epochs = 15 steps.
    let results = try compiled(1).fit(
      data, epochs: 3, batchSize: 10, dropRemainder: true, totalSteps: 15, callbacks: [counter])
    XCTAssertEqual(counter.perEpoch, [6, 6, 3])
    XCTAssertEqual(results.count, 3)
    XCTAssertThrowsError(try compiled(1).fit(data, epochs: 2, batchSize: 10, dropRemainder: true, totalSteps: 13)) {
      XCTAssert("\($0)".contains("total steps must be from 1 to 12"), "\($0)")
    }
    XCTAssertThrowsError(try compiled(1).fit(data, epochs: 1, batchSize: 100, dropRemainder: true)) {
      XCTAssert("\($0)".contains("64 examples make no whole batch of 100"), "\($0)")
    }
  }

  func testFanInUniformAndDiracInitializers() throws {
    let dense = try Sequential(inputShape: [100], seed: 1) { Dense(units: 50, kernelInitializer: .fanInUniform) }
    let w = dense.namedParameters[0].variable.value.scalars
    XCTAssertLessThanOrEqual(w.map(abs).max()!, 0.1)
    XCTAssertGreaterThan(w.map(abs).max()!, 0.09, "the draws fill ±1/√100")
    let conv = try Sequential(inputShape: [4, 4, 3], seed: 1) {
      Conv2D(filters: 5, kernelSize: (3, 3), kernelInitializer: .dirac)
    }
    let k = conv.namedParameters[0].variable.value
    // [3, 3, 3, 5]: filters 0..<3 are identities on their channel at the centre (1, 1).
    for o in 0..<3 {
      for i in 0..<27 { XCTAssertEqual(k[i * 5 + o], i == (4 * 3 + o) ? 1 : 0) }
    }
    let rest = (0..<27).map { k[$0 * 5 + 4] }
    XCTAssertLessThanOrEqual(rest.map(abs).max()!, 1 / Float(27).squareRoot())
    XCTAssertThrowsError(try Sequential(inputShape: [4]) { Dense(units: 2, kernelInitializer: .dirac) })
  }
}
