import Autograd
import Layers
import Tensors
import XCTest

/// Batch normalisation, GELU, dropout and label smoothing: finite differences and
/// hand-computed values.
final class NormalizationTests: XCTestCase {
  func parameters(_ c: Int, seed: UInt64) -> (Variable, Variable) {
    let gamma = Variable(randomTensor([c], seed: seed), requiresGrad: true)
    let beta = Variable(randomTensor([c], seed: seed + 1), requiresGrad: true)
    for i in 0..<c { gamma.value[i] += 1.5 }
    return (gamma, beta)
  }

  func testBatchNormGradientsWithBatchStatistics() throws {
    let (gamma, beta) = parameters(5, seed: 3)
    let r = randomTensor([4, 3, 3, 5], seed: 4)
    try checkGradients(
      input: randomTensor([4, 3, 3, 5], seed: 5),
      parameters: [Parameter(name: "gamma", variable: gamma), Parameter(name: "beta", variable: beta)]
    ) { x in
      try weightedSum(try batchNormalization(x, gamma: gamma, beta: beta, epsilon: 0.001), weights: r)
    }
  }

  func testBatchNormGradientsWithGivenStatistics() throws {
    let (gamma, beta) = parameters(3, seed: 6)
    let stats = BatchStatistics(mean: [0.1, -0.2, 0.3], variance: [0.5, 1.5, 2])
    let r = randomTensor([5, 3], seed: 7)
    try checkGradients(
      input: randomTensor([5, 3], seed: 8),
      parameters: [Parameter(name: "gamma", variable: gamma), Parameter(name: "beta", variable: beta)]
    ) { x in
      try weightedSum(
        try batchNormalization(x, gamma: gamma, beta: beta, epsilon: 0.001, statistics: stats), weights: r)
    }
  }

  /// One channel of [1, 2, 3, 4]: mean 2.5, biased variance 1.25; γ = 2, β = 1.
  func testBatchNormByHand() throws {
    let layer = BatchNormalization()
    var rng = SeededRandom(seed: 0)
    try layer.build(inputShape: [1], rng: &rng)
    try layer.setWeights([
      Tensor(shape: [1], values: [2]), Tensor(shape: [1], values: [1]), Tensor(zeros: [1]),
      Tensor(shape: [1], values: [1]),
    ])
    let tape = Tape()
    let y = try layer(tape.input(try Tensor(shape: [4, 1], values: [1, 2, 3, 4]), requiresGrad: true))
    let s = Float(1.251).squareRoot()
    let expected: [Float] = [-1.5, -0.5, 0.5, 1.5].map { 2 * $0 / s + 1 }
    for (a, b) in zip(y.value.scalars, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    let moving = layer.parameters.filter { !$0.trainable }.map { $0.variable.value[0] }
    XCTAssertEqual(moving[0], 0.025, accuracy: 1e-7, "0.99 · 0 + 0.01 · 2.5")
    XCTAssertEqual(moving[1], 1.0025, accuracy: 1e-6, "0.99 · 1 + 0.01 · 1.25")
    // Inference uses the moving statistics and leaves them alone.
    let inferred = try layer(Variable(try Tensor(shape: [1, 1], values: [3])))
    XCTAssertEqual(inferred.value[0], 2 * (3 - 0.025) / Float(1.0035).squareRoot() + 1, accuracy: 1e-5)
    XCTAssertEqual(layer.parameters[2].variable.value[0], 0.025, accuracy: 1e-7)
  }

  func testBatchNormParametersAndConfiguration() throws {
    var rng = SeededRandom(seed: 0)
    let full = BatchNormalization()
    try full.build(inputShape: [4, 4, 8], rng: &rng)
    XCTAssertEqual(full.parameters.map(\.name), ["gamma", "beta", "moving_mean", "moving_variance"])
    XCTAssertEqual(full.parameters.map(\.trainable), [true, true, false, false])
    let biasOnly = BatchNormalization(scale: false)
    try biasOnly.build(inputShape: [4, 4, 8], rng: &rng)
    XCTAssertEqual(biasOnly.parameters.map(\.name), ["beta", "moving_mean", "moving_variance"])
    for (layer, message) in [
      (BatchNormalization(axis: 1), "only the last axis"), (BatchNormalization(momentum: 1.5), "momentum must lie"),
      (BatchNormalization(epsilon: 0), "epsilon must be above 0"),
    ] {
      XCTAssertThrowsError(try layer.build(inputShape: [4, 4, 8], rng: &rng)) {
        XCTAssertTrue("\($0)".contains(message), "\($0)")
      }
    }
  }

  func testBatchNormSameWithOneAndTwoThreads() throws {
    let (gamma, beta) = parameters(8, seed: 9)
    let x = randomTensor([8, 16, 16, 8], seed: 10)
    var results: [[UInt32]] = []
    for threads in [1, 2] {
      let saved = Threads.count
      Threads.count = threads
      defer { Threads.count = saved }
      gamma.grad = nil
      beta.grad = nil
      let tape = Tape()
      let v = tape.input(x, requiresGrad: true)
      let y = try batchNormalization(v, gamma: gamma, beta: beta, epsilon: 0.001)
      try tape.backward(try weightedSum(y, weights: randomTensor(x.shape, seed: 11)))
      results.append((y.value.scalars + v.grad!.scalars + gamma.grad!.scalars + beta.grad!.scalars).map(\.bitPattern))
    }
    XCTAssertTrue(results[0] == results[1])
  }

  func testBatchNormGELUGradients() throws {
    let (gamma, beta) = parameters(5, seed: 12)
    let r = randomTensor([4, 3, 3, 5], seed: 13)
    let stats = BatchStatistics(mean: [0.1, -0.2, 0.3, 0, 0.2], variance: [0.5, 1.5, 2, 1, 0.7])
    for given in [nil, stats] {
      try checkGradients(
        input: randomTensor([4, 3, 3, 5], seed: 14),
        parameters: [Parameter(name: "gamma", variable: gamma), Parameter(name: "beta", variable: beta)]
      ) { x in
        try weightedSum(
          try batchNormalizationGELU(x, gamma: gamma, beta: beta, epsilon: 0.001, statistics: given), weights: r)
      }
    }
  }

  /// The fused op gives `gelu(batchNormalization(...))`'s output and every gradient to the
  /// bit: whole vectors of channels and a partial one, with and without γ, on the batch's
  /// statistics (which it reports the same) and on given ones.
  func testBatchNormGELUIsTheTwoOpsBitForBit() throws {
    for (c, withGamma) in [(64, false), (13, true)] {
      let (gamma, beta) = parameters(c, seed: 15)
      let x = randomTensor([6, 9, 9, c], seed: 16)
      let weights = randomTensor(x.shape, seed: 17)
      let given = BatchStatistics(
        mean: (0..<c).map { Float($0) / Float(c) - 0.5 }, variance: (0..<c).map { 0.5 + Float($0) / Float(c) })
      for statistics in [nil, given] {
        var results: [[UInt32]] = []
        for fused in [false, true] {
          gamma.grad = nil
          beta.grad = nil
          let tape = Tape()
          let v = tape.input(x, requiresGrad: true)
          var measured: [Float] = []
          let g = withGamma ? gamma : nil
          let y =
            fused
            ? try batchNormalizationGELU(v, gamma: g, beta: beta, epsilon: 1e-5, statistics: statistics) {
              measured = $0.mean + $0.variance
            }
            : gelu(
              try batchNormalization(v, gamma: g, beta: beta, epsilon: 1e-5, statistics: statistics) {
                measured = $0.mean + $0.variance
              })
          try tape.backward(try weightedSum(y, weights: weights))
          let grads = v.grad!.scalars + (withGamma ? gamma.grad!.scalars : []) + beta.grad!.scalars
          results.append((y.value.scalars + grads + measured).map(\.bitPattern))
        }
        XCTAssertTrue(results[0] == results[1], "c \(c), statistics \(statistics == nil ? "measured" : "given")")
      }
    }
  }

  func testNormalizationGradients() throws {
    try checkLayerGradients(Normalization(mean: [0.1, 0.2], standardDeviation: [0.5, 2]), inputShape: [3, 4, 2])
  }

  func testGELU() throws {
    let y = try GELU()(Variable(try Tensor(shape: [4], values: [0, 1, -1, 2]))).value.scalars
    for (a, b) in zip(y, [0, 0.841_344_746, -0.158_655_254, 1.954_499_736] as [Float]) {
      XCTAssertEqual(a, b, accuracy: 1e-6)
    }
    try checkLayerGradients(GELU(), inputShape: [2, 3, 4])
    try checkLayerGradients(Dense(units: 3, activation: .gelu), inputShape: [4, 5])
    try checkLayerGradients(Conv2D(filters: 8, kernelSize: (3, 3), activation: .gelu), inputShape: [2, 5, 5, 2])
  }

  func testDropout() throws {
    let layer = Dropout(rate: 0.25)
    var rng = SeededRandom(seed: 0)
    try layer.build(inputShape: [64], rng: &rng)
    let x = randomTensor([32, 64], seed: 12)
    XCTAssertEqual(try layer(Variable(x)).value.scalars, x.scalars, "the identity in inference")
    let tape = Tape()
    let v = tape.input(x, requiresGrad: true)
    let y = try layer(v)
    let zeros = y.value.scalars.filter { $0 == 0 }.count
    XCTAssertTrue((x.count * 20 / 100)...(x.count * 30 / 100) ~= zeros, "\(zeros) of \(x.count) dropped")
    let scale: Float = 1 / 0.75
    for i in 0..<x.count where y.value[i] != 0 { XCTAssertEqual(y.value[i], x[i] * scale) }
    XCTAssertEqual(try layer(tape.input(x, requiresGrad: true)).value.scalars, y.value.scalars, "same draws")
    let r = randomTensor(x.shape, seed: 13)
    try tape.backward(try weightedSum(y, weights: r))
    for i in 0..<x.count { XCTAssertEqual(v.grad![i], y.value[i] == 0 ? 0 : r[i] * scale) }
    var other = SeededRandom(seed: 1)
    try layer.build(inputShape: [64], rng: &other)
    XCTAssertNotEqual(try layer(Tape().input(x, requiresGrad: true)).value.scalars, y.value.scalars)
    XCTAssertThrowsError(try Dropout(rate: 1).build(inputShape: [4], rng: &rng))
  }

  func testLabelSmoothingByHand() throws {
    let loss = Loss.sparseCategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2)
    let even = try loss(Variable(try Tensor(shape: [1, 2], values: [0, 0])), labels: [0])
    XCTAssertEqual(even.value[0], Float(log(2.0)), accuracy: 1e-6)
    // logits [2, 0], label 0: targets [0.9, 0.1]; loss 0.9 (lse − 2) + 0.1 lse, lse = ln(e² + 1).
    let tape = Tape()
    let x = tape.input(try Tensor(shape: [1, 2], values: [2, 0]), requiresGrad: true)
    let l = try loss(x, labels: [0])
    let lse = log(exp(2.0) + 1)
    XCTAssertEqual(Double(l.value[0]), 0.9 * (lse - 2) + 0.1 * lse, accuracy: 1e-6)
    try tape.backward(l)
    let p0 = exp(2.0) / (exp(2.0) + 1)
    XCTAssertEqual(Double(x.grad![0]), p0 - 0.9, accuracy: 1e-6)
    XCTAssertEqual(Double(x.grad![1]), (1 - p0) - 0.1, accuracy: 1e-6)
    try checkGradients(input: randomTensor([4, 5], seed: 3), parameters: []) { try loss($0, labels: [0, 4, 2, 2]) }
    let probabilities = Loss.sparseCategoricalCrossentropy(fromLogits: false, labelSmoothing: 0.1)
    let p = randomTensor([3, 4], seed: 4)
    for i in 0..<p.count { p[i] = 0.2 + 0.15 * p[i] }
    try checkGradients(input: p, parameters: [], eps: 1e-4) { try probabilities($0, labels: [1, 0, 3]) }
    XCTAssertThrowsError(
      try Loss.sparseCategoricalCrossentropy(fromLogits: true, labelSmoothing: 1.5)(x, labels: [0]))
  }
}
