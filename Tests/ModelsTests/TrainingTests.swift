import CNN
import XCTest

final class TrainingTests: XCTestCase {
  func testLearnsBars() throws {
    let train = try barsDataset(count: 400, seed: 1)
    let test = try barsDataset(count: 200, seed: 2)
    let model = try smallModel()
    model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    let before = try model.evaluate(test)
    let results = try model.fit(train, epochs: 4, batchSize: 16, seed: 3, validation: test)
    XCTAssertEqual(results.map(\.epoch), [1, 2, 3, 4])
    XCTAssertLessThan(results.last!.loss, results.first!.loss)
    XCTAssertGreaterThan(results.last!.testAccuracy!, 0.95)
    XCTAssertLessThan(results.last!.testLoss!, before.loss)
    let e = try model.evaluate(test, batchSize: 7)
    XCTAssertEqual(e.accuracy, results.last!.testAccuracy!, "evaluation does not depend on the batch size")
    XCTAssertEqual(e.predictions.count, 200)
  }

  func testSameSeedSameLosses() throws {
    func run() throws -> [Double] {
      let model = try smallModel(seed: 9)
      model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
      return try model.fit(try barsDataset(count: 100, seed: 1), epochs: 2, batchSize: 8, seed: 4).map(\.loss)
    }
    XCTAssertEqual(try run(), try run())
  }

  func testIdenticalWithOneAndTwoThreads() throws {
    func run(_ threads: Int) throws -> [[Float]] {
      let saved = Threads.count
      Threads.count = threads
      defer { Threads.count = saved }
      let model = try smallModel(seed: 2)
      model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
      try model.fit(try barsDataset(count: 64, seed: 1), epochs: 1, batchSize: 32, seed: 1)
      return weights(model)
    }
    XCTAssertEqual(try run(1), try run(2))
  }

  func testIdenticalWithAVX2AndAVX512Kernels() throws {
    guard SIMDKernel.best == .avx512 else {
      throw XCTSkip("the AVX-512 kernels are not available (processor, build or CNN_SIMD)")
    }
    defer { SIMDKernel.current = .best }
    func run(_ kernel: SIMDKernel) throws -> [[Float]] {
      SIMDKernel.current = kernel
      let model = try smallModel(seed: 2)
      model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
      try model.fit(try barsDataset(count: 64, seed: 1), epochs: 1, batchSize: 32, seed: 1)
      return weights(model)
    }
    XCTAssertEqual(try run(.avx2), try run(.avx512))
  }

  func testNonFiniteLossStops() throws {
    let model = try smallModel()
    model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    model.trainableVariables[0].value[0] = .nan
    XCTAssertThrowsError(try model.fit(try barsDataset(count: 32, seed: 1), epochs: 1, batchSize: 8)) {
      XCTAssertTrue("\($0)".contains("the loss became nan at epoch 1, batch 1"), "\($0)")
    }
  }

  func testBadOptionsAndInterrupt() throws {
    let model = try smallModel()
    let data = try barsDataset(count: 32, seed: 1)
    XCTAssertThrowsError(try model.fit(data, epochs: 1)) { XCTAssertTrue("\($0)".contains("compile")) }
    model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    XCTAssertThrowsError(try model.fit(data, epochs: 0))
    XCTAssertThrowsError(try model.fit(data, epochs: 1, batchSize: 0))
    final class Interrupt: Callback {
      func batchBegan(_ context: TrainingContext) throws { throw TrainingError.interrupted(epoch: context.epoch) }
    }
    XCTAssertThrowsError(try model.fit(data, epochs: 1, callbacks: [Interrupt()])) {
      XCTAssertTrue("\($0)".contains("interrupted during epoch 1"), "\($0)")
    }
  }

  func testResumeMatchesUninterruptedRunBitForBit() throws {
    let data = try barsDataset(count: 80, seed: 1)
    let straight = try smallModel(seed: 3)
    straight.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    try straight.fit(data, epochs: 3, batchSize: 16, seed: 7)

    let path = tempPath("resume.safetensors")
    let first = try smallModel(seed: 3)
    first.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    try first.fit(data, epochs: 1, batchSize: 16, seed: 7)
    try first.save(to: path, epoch: 1)

    let resumed = try smallModel(seed: 99)  // other initial weights: all come from the file
    resumed.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    let ck = try resumed.load(from: path, restoreOptimizer: true)
    XCTAssertEqual(ck.epoch, 1)
    try resumed.fit(data, epochs: 3, batchSize: 16, seed: 7, initialEpoch: ck.epoch)
    XCTAssertEqual(weights(resumed), weights(straight))
  }
}
