import CNN
import Foundation
import XCTest

/// What callbacks can do to a run: stop it, and change rates of chosen parameters.
final class CallbackTests: XCTestCase {
  func compiled() throws -> Sequential {
    let m = try smallModel(seed: 2)
    m.compile(
      optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    return m
  }

  final class StopAt: Callback {
    let step: Int
    let beforeIt: Bool
    var ended: [Int] = []
    init(step: Int, beforeIt: Bool) {
      self.step = step
      self.beforeIt = beforeIt
    }
    func batchBegan(_ context: TrainingContext) throws {
      if beforeIt && context.step == step { context.stopTraining = true }
    }
    func batchEnded(_ context: TrainingContext, _ progress: BatchProgress) throws {
      if !beforeIt && context.step == step { context.stopTraining = true }
    }
    func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws { ended.append(result.epoch) }
  }

  /// A stop on an epoch's last step finishes that epoch; one set before a step runs it not.
  func testStopTraining() throws {
    let data = try barsDataset(count: 40, seed: 1)  // 4 steps of 10 an epoch
    let atEnd = StopAt(step: 4, beforeIt: false)
    let results = try compiled().fit(data, epochs: 3, batchSize: 10, callbacks: [atEnd])
    XCTAssertEqual(results.map(\.epoch), [1], "the epoch whose last step set the stop is finished")
    XCTAssertEqual(atEnd.ended, [1])

    let stoppedAfter = try compiled()
    XCTAssertEqual(
      try stoppedAfter.fit(data, epochs: 3, batchSize: 10, callbacks: [StopAt(step: 6, beforeIt: false)]).map(\.epoch),
      [1], "a stop inside epoch 2 leaves it unfinished")
    let stoppedBefore = try compiled()
    try stoppedBefore.fit(data, epochs: 3, batchSize: 10, callbacks: [StopAt(step: 7, beforeIt: true)])
    XCTAssertEqual(weights(stoppedBefore), weights(stoppedAfter), "a stop in batchBegan runs no step")
  }

  /// The rate multiplier reaches the named parameter of the given layer type only.
  func testRateMultiplierChoosesByLayerType() throws {
    let model = try Sequential(inputShape: [4, 4, 2], seed: 1) {
      BatchNormalization()
      LayerNormalization()
      Flatten()
      Dense(units: 2)
    }
    model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    let data = try TensorDataset(inputs: Tensor(zeros: [4, 4, 4, 2]), labels: [0, 1, 0, 1])
    try model.fit(
      data, epochs: 1, batchSize: 4, callbacks: [RateMultiplier(64, parameter: "beta", of: BatchNormalization.self)])
    let rates = Dictionary(
      uniqueKeysWithValues: model.namedTrainableParameters.map { ($0.name, $0.variable.learningRateMultiplier) })
    XCTAssertEqual(rates["batch_normalization.beta"], 64)
    XCTAssertEqual(rates["batch_normalization.gamma"], 1)
    XCTAssertEqual(rates["layer_normalization.beta"], 1)
  }
}
