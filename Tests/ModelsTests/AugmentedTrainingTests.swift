import CNN
import Foundation
import XCTest

/// Augmented training resumes exactly; test-time augmentation averages the views it names;
/// input normalisation by hand.
final class AugmentedTrainingTests: XCTestCase {
  func model(_ seed: UInt64) throws -> Sequential {
    let m = try Sequential(inputShape: [6, 6, 1], seed: seed) {
      Normalization(mean: [0.3], standardDeviation: [0.2])
      Conv2D(filters: 4, kernelSize: (3, 3), activation: .gelu)
      BatchNormalization(momentum: 0.6, scale: false)
      MaxPooling2D()
      Flatten()
      Dense(units: 2, activation: .softmax)
    }
    m.compile(
      optimizer: SGD(learningRate: 0.05, momentum: 0.9, nesterov: true),
      loss: .sparseCategoricalCrossentropy(fromLogits: false))
    return m
  }

  func testAugmentedRunResumesExactly() throws {
    let data = try barsDataset(count: 48, seed: 1)
    let a = Augmentation(translate: 1, flip: .alternating, cutout: 2)
    let straight = try model(1)
    try straight.fit(data.augmented(a), epochs: 3, batchSize: 16, seed: 4)
    let first = try model(1)
    try first.fit(data.augmented(a), epochs: 1, batchSize: 16, seed: 4)
    let path = tempPath("augmented.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try first.save(to: path, epoch: 1)
    let resumed = try model(7)
    try resumed.load(from: path, restoreOptimizer: true)
    try resumed.fit(data.augmented(a), epochs: 3, batchSize: 16, seed: 4, initialEpoch: 1)
    XCTAssertEqual(
      resumed.namedParameters.map { $0.variable.value.scalars },
      straight.namedParameters.map { $0.variable.value.scalars })
  }

  func testTestTimeAugmentationAveragesItsViews() throws {
    let m = try model(2)
    try m.fit(try barsDataset(count: 32, seed: 2), epochs: 1, batchSize: 8)
    var batches = try barsDataset(count: 4, seed: 3).batches(size: 4, seed: 0, epoch: 0, shuffle: false).makeIterator()
    let x = try XCTUnwrap(batches.next()).images
    func view(_ dy: Int, _ dx: Int, _ mirror: Bool) throws -> [Float] {
      let out = Tensor(uninitialized: x.shape)
      for i in 0..<4 {
        shiftImage(x.data + i * 36, out.data + i * 36, height: 6, width: 6, channels: 1, dy: dy, dx: dx, mirror: mirror)
      }
      return try m.predict(out).scalars
    }
    let plain = try view(0, 0, false)
    let mirror = try view(0, 0, true)
    XCTAssertEqual(try m.predict(x, testTimeAugmentation: .none).scalars, plain)
    let pair = zip(plain, mirror).map { 0.5 * $0 + 0.5 * $1 }
    XCTAssertEqual(try m.predict(x, testTimeAugmentation: .mirror).scalars, pair)
    let upLeft = zip(try view(-1, -1, false), try view(-1, -1, true)).map { 0.5 * $0 + 0.5 * $1 }
    let downRight = zip(try view(1, 1, false), try view(1, 1, true)).map { 0.5 * $0 + 0.5 * $1 }
    let six = try m.predict(x, testTimeAugmentation: .mirrorTranslate).scalars
    for i in six.indices {
      XCTAssertEqual(six[i], 0.5 * pair[i] + 0.25 * upLeft[i] + 0.25 * downRight[i], accuracy: 1e-6)
    }
    let e = try m.evaluate(try barsDataset(count: 20, seed: 5), testTimeAugmentation: .mirrorTranslate)
    XCTAssertEqual(e.predictions.count, 20)
  }

  func testNormalizationByHand() throws {
    let layer = Normalization(mean: [0.5, 1], standardDeviation: [0.25, 2])
    var rng = SeededRandom(seed: 0)
    try layer.build(inputShape: [2], rng: &rng)
    let y = try layer(Variable(try Tensor(shape: [2, 2], values: [1, 1, 0, 5])))
    XCTAssertEqual(y.value.scalars, [2, 0, -2, 2])
    XCTAssertEqual(layer.parameters.map(\.trainable), [false, false])
    XCTAssertThrowsError(try Normalization(mean: [0], variance: [-1]).build(inputShape: [1], rng: &rng))
    XCTAssertThrowsError(try Normalization(mean: [0, 0], variance: [1, 1]).build(inputShape: [3], rng: &rng))
  }
}
