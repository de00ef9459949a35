import CNN
import Foundation
import XCTest

/// Models composed from blocks, custom losses and metrics, batch sources other than images,
/// and progress output, all through `import CNN` alone.
final class CompositionTests: XCTestCase {
  func testNestedSequentialComputesWhatTheFlatModelDoes() throws {
    let nested = try Sequential(inputShape: [6, 6, 1], seed: 4) {
      try Sequential {
        Conv2D(filters: 3, kernelSize: (3, 3), activation: .relu)
        MaxPooling2D()
      }
      Flatten()
      Dense(units: 2)
    }
    let flat = try Sequential(inputShape: [6, 6, 1], seed: 4) {
      Conv2D(filters: 3, kernelSize: (3, 3), activation: .relu)
      MaxPooling2D()
      Flatten()
      Dense(units: 2)
    }
    XCTAssertEqual(
      nested.namedParameters.map(\.name),
      ["sequential.conv2d.kernel", "sequential.conv2d.bias", "dense.kernel", "dense.bias"])
    XCTAssertEqual(
      nested.namedParameters.map(\.variable.value.scalars), flat.namedParameters.map(\.variable.value.scalars))
    let x = randomTensor([3, 6, 6, 1], seed: 5)
    XCTAssertEqual(try nested.predict(x).scalars, try flat.predict(x).scalars)
    XCTAssert(nested.summary().contains("sequential (Sequential)"), nested.summary())
  }

  func testResidualBlockAddsItsInputAndTrains() throws {
    let model = try Sequential(inputShape: [6, 6, 1], seed: 2) {
      Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, activation: .relu)
      try Residual {
        Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, activation: .relu)
        Conv2D(filters: 4, kernelSize: (3, 3), padding: .same)
      }
      GlobalAveragePooling2D()
      Dense(units: 2)
    }
    // output = input + block(input), checked on the block alone.
    let residual = try XCTUnwrap(model.layers[1] as? Residual)
    let x = randomTensor([2, 6, 6, 4], seed: 3)
    let block = try residual.block(Variable(x)).value
    let out = try residual(Variable(x)).value
    for i in 0..<x.count { XCTAssertEqual(out[i], x[i] + block[i]) }
    XCTAssertThrowsError(
      try Sequential(inputShape: [6, 6, 1]) { try Residual { Conv2D(filters: 2, kernelSize: (3, 3)) } }
    ) { XCTAssert("\($0)".contains("it must keep the shape"), "\($0)") }

    model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    let data = try bars(count: 200, seed: 1)
    let history = try model.fit(data, epochs: 8, batchSize: 20, seed: 1)
    XCTAssertLessThan(history.last!.loss, 0.5 * history.first!.loss)
    XCTAssertGreaterThan(try model.evaluate(data).accuracy, 0.9)
  }

  func testCustomLossAndMetric() throws {
    // Mean squared error between the softmax output and the one-hot label.
    let meanSquared = Loss(name: "mean_squared_error") { output, labels in
      let oneHot = Tensor(zeros: output.shape)
      let classes = output.shape[1]
      for (r, l) in labels.enumerated() { oneHot[r * classes + l] = 1 }
      let d = try output - Variable(oneHot)
      return mean(try d * d)
    }
    let secondChoice = Metric(name: "second_choice") { outputs, labels in
      let classes = outputs.shape[1]
      var hits = 0
      for (r, l) in labels.enumerated() {
        let row = (0..<classes).map { outputs[r * classes + $0] }
        let order = row.indices.sorted { row[$0] > row[$1] }
        if order[1] == l { hits += 1 }
      }
      return Double(hits) / Double(labels.count)
    }
    let model = try Sequential(inputShape: [6, 6, 1], seed: 3) {
      Flatten()
      Dense(units: 8, activation: .relu)
      Dense(units: 2, activation: .softmax)
    }
    model.compile(
      optimizer: Adam(learningRate: 0.01), loss: meanSquared, metrics: [secondChoice, .topKAccuracy(1)])
    let data = try bars(count: 200, seed: 2)
    let history = try model.fit(data, epochs: 6, batchSize: 20, validation: data)
    XCTAssertLessThan(history.last!.loss, history.first!.loss)
    let last = try XCTUnwrap(history.last)
    let metrics = try XCTUnwrap(last.metrics)
    XCTAssertEqual(Set(metrics.keys), ["second_choice", "top_1_accuracy"])
    XCTAssertEqual(metrics["top_1_accuracy"]!, last.accuracy, accuracy: 1e-12)
    // With two classes the label is either first or second.
    XCTAssertEqual(metrics["second_choice"]! + metrics["top_1_accuracy"]!, 1, accuracy: 1e-12)
    XCTAssertEqual(last.testMetrics?["top_1_accuracy"] ?? -1, last.testAccuracy!, accuracy: 1e-12)
    let e = try model.evaluate(data)
    XCTAssertEqual(e.metrics["top_1_accuracy"]!, e.accuracy, accuracy: 1e-12)
  }

  func testFitOnFloatFeaturesWithManyClasses() throws {
    // 300 classes, each a point in 16 dimensions: features = centre + noise.
    let classes = 300
    var rng = SeededRandom(seed: 8)
    let centres = (0..<classes * 16).map { _ in rng.uniform(-1, 1) }
    let n = 3000
    let x = Tensor(zeros: [n, 16])
    var labels: [Int] = []
    for i in 0..<n {
      let c = i % classes
      for j in 0..<16 { x[i * 16 + j] = centres[c * 16 + j] + 0.05 * rng.uniform(-1, 1) }
      labels.append(c)
    }
    let data = try TensorDataset(inputs: x, labels: labels)
    let model = try Sequential(inputShape: [16], seed: 1) {
      Dense(units: 64, activation: .relu)
      Dense(units: classes)
    }
    model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    try model.fit(data, epochs: 15, batchSize: 100)
    XCTAssertGreaterThan(try model.evaluate(data).accuracy, 0.9)
    XCTAssertThrowsError(try TensorDataset(inputs: x, labels: [1, 2])) {
      XCTAssert("\($0)".contains("2 labels for inputs of shape [3000, 16]"), "\($0)")
    }
  }

  func testProgressBarWritesKerasStyleLines() throws {
    let model = try Sequential(inputShape: [6, 6, 1], seed: 3) {
      Flatten()
      Dense(units: 2)
    }
    model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    var text = ""
    let bar = ProgressBar(interactive: false) { text += $0 }
    try model.fit(
      try bars(count: 100, seed: 1), epochs: 2, batchSize: 10, validation: try bars(count: 20, seed: 2),
      callbacks: [bar])
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "Epoch 1/2")
    XCTAssert(lines.contains { $0.hasPrefix(" 2/10 - ETA: ") && $0.contains(" - loss: ") }, text)
    XCTAssert(lines.contains { $0.hasPrefix("10/10 - ") }, text)
    XCTAssert(lines.contains { $0.hasPrefix("epoch 2 - test_loss: ") && $0.hasSuffix(" images/s") }, text)
    XCTAssertEqual(lines.filter { $0.hasPrefix("Epoch ") }, ["Epoch 1/2", "Epoch 2/2"])
  }
}
