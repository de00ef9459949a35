import CNN
import Foundation
import XCTest

/// A model with batch normalisation: its moving statistics are non-trainable weights that
/// training updates, summaries count and checkpoints keep, and the optimizer leaves alone.
final class BatchNormModelTests: XCTestCase {
  func model(seed: UInt64 = 0) throws -> Sequential {
    try Sequential(inputShape: [6, 6, 1], seed: seed) {
      Conv2D(filters: 4, kernelSize: (3, 3))
      BatchNormalization()
      ReLU()
      MaxPooling2D()
      Flatten()
      Dropout(rate: 0.1)
      Dense(units: 2, activation: .softmax)
    }
  }

  func testSummaryCountsNonTrainableWeights() throws {
    let m = try model()
    let s = m.summary()
    XCTAssertTrue(s.contains("batch_normalization (BatchNormalization)"), s)
    XCTAssertTrue(s.contains("Non-trainable params: 8"), s)
    XCTAssertEqual(m.parameterCount - m.trainableParameterCount, 8)
    XCTAssertEqual(m.trainableVariables.count, m.namedParameters.count - 2)
  }

  func testTrainingMovesStatisticsAndCheckpointsKeepThem() throws {
    let m = try model()
    m.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    let moving = m.namedParameters.first { $0.name == "batch_normalization.moving_mean" }!.variable
    XCTAssertEqual(moving.value.scalars, [0, 0, 0, 0])
    let results = try m.fit(try barsDataset(count: 64, seed: 1), epochs: 2, batchSize: 16)
    XCTAssertNotEqual(moving.value.scalars, [0, 0, 0, 0], "training updates the moving mean")
    XCTAssertTrue(results.allSatisfy { $0.loss.isFinite })
    let path = tempPath("bn.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try m.save(to: path, epoch: 2)
    let (tensors, _) = try SafeTensors.read(path)
    XCTAssertNotNil(tensors["batch_normalization.moving_variance"])
    XCTAssertNotNil(tensors["optimizer.m.batch_normalization.gamma"])
    XCTAssertNil(tensors["optimizer.m.batch_normalization.moving_mean"], "no optimizer state for statistics")
    let other = try model(seed: 5)
    other.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    try other.load(from: path, restoreOptimizer: true)
    XCTAssertEqual(weights(other), weights(m))
    XCTAssertEqual(
      other.namedParameters.map { $0.variable.value.scalars }, m.namedParameters.map { $0.variable.value.scalars })
    // Inference is deterministic and uses the moving statistics: the same input, the same output.
    let x = try barsDataset(count: 8, seed: 2)
    var batches = x.batches(size: 8, seed: 0, epoch: 0, shuffle: false).makeIterator()
    let batch = try XCTUnwrap(batches.next()).0
    XCTAssertEqual(try m.predict(batch).scalars, try other.predict(batch).scalars)
  }

  func testSameWithOneAndTwoThreads() throws {
    func run(_ threads: Int) throws -> [[Float]] {
      let saved = Threads.count
      Threads.count = threads
      defer { Threads.count = saved }
      let m = try model(seed: 3)
      m.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
      try m.fit(try barsDataset(count: 64, seed: 1), epochs: 1, batchSize: 32, seed: 1)
      return m.namedParameters.map { $0.variable.value.scalars }
    }
    XCTAssertEqual(try run(1), try run(2))
  }
}
