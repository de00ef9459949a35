import CNN
import Foundation
import XCTest

/// `fit` with a learning-rate schedule: the rate follows it step by step, a resumed run
/// continues it exactly, and the optimizer's base rate comes back afterwards.
final class ScheduleTests: XCTestCase {
  let schedule = LearningRateSchedule.piecewiseLinear([.init(0, 0.2), .init(0.25, 1), .init(1, 0.1)])

  func compiled(_ seed: UInt64) throws -> Sequential {
    let m = try smallModel(seed: seed)
    m.compile(
      optimizer: SGD(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01),
      loss: .sparseCategoricalCrossentropy(fromLogits: false, labelSmoothing: 0.1))
    return m
  }

  func testResumedScheduleMatchesStraightRun() throws {
    let data = try barsDataset(count: 64, seed: 1)
    let straight = try compiled(4)
    let results = try straight.fit(
      data, epochs: 4, batchSize: 16, seed: 2, callbacks: [LearningRateScheduler(schedule)])
    // 16 steps; the last (15/16 = 0.9375 of the run) is at 1 − 0.9 · (0.6875 / 0.75) = 0.175.
    XCTAssertEqual(results.last!.learningRate!, 0.05 * 0.175, accuracy: 1e-6)
    XCTAssertEqual(straight.optimizer!.learningRate, 0.05, "the base rate comes back")

    // The same run stopped after its second epoch's checkpoint, then resumed.
    let first = try compiled(4)
    let path = tempPath("schedule.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let stopped = try first.fit(
      data, epochs: 4, batchSize: 16, seed: 2,
      callbacks: [LearningRateScheduler(schedule), SaveAndStop(after: 2, to: path)])
    XCTAssertEqual(stopped.map(\.epoch), [1, 2], "a callback stops training")
    XCTAssertEqual(first.optimizer!.learningRate, 0.05, "the base rate comes back after a stop")
    let resumed = try compiled(9)
    try resumed.load(from: path, restoreOptimizer: true)
    try resumed.fit(
      data, epochs: 4, batchSize: 16, seed: 2, initialEpoch: 2, callbacks: [LearningRateScheduler(schedule)])
    XCTAssertEqual(weights(resumed), weights(straight))
  }

  func testRateFollowsTheScheduleEachStep() throws {
    var rates: [Float] = []
    var steps: [Int] = []
    let recorder = AfterEachStep {
      rates.append($0.optimizer.learningRate)
      steps.append($0.step)
    }
    let m = try compiled(1)
    try m.fit(
      try barsDataset(count: 40, seed: 1), epochs: 2, batchSize: 10,
      callbacks: [LearningRateScheduler(schedule), recorder])
    let expected = (0..<8).map { 0.05 * schedule.factor(step: $0, totalSteps: 8) }
    XCTAssertEqual(rates, expected)
    XCTAssertEqual(steps, Array(1...8), "steps count from 1 over the run")
  }
}
