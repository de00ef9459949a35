import CNN
import XCTest

final class SequentialTests: XCTestCase {
  func testSeedModelSummary() throws {
    let model = try Zoo.model("seed")
    XCTAssertEqual(model.parameterCount, 167_562)
    let s = model.summary()
    XCTAssertTrue(s.contains("Total params: 167,562"), s)
    XCTAssertTrue(s.contains("Layer (type)") && s.contains("Output Shape") && s.contains("Param #"))
    for row in [
      "conv2d (Conv2D)", "(None, 30, 30, 32)", "896", "max_pooling2d (MaxPooling2D)", "(None, 15, 15, 32)",
      "conv2d_1 (Conv2D)", "(None, 13, 13, 64)", "18,496", "(None, 6, 6, 64)", "flatten (Flatten)", "(None, 2304)",
      "dense (Dense)", "147,520", "dense_1 (Dense)", "(None, 10)", "650",
    ] {
      XCTAssertTrue(s.contains(row), "summary lacks \(row)")
    }
    XCTAssertEqual(
      model.namedParameters.map(\.name),
      [
        "conv2d.kernel", "conv2d.bias", "conv2d_1.kernel", "conv2d_1.bias", "dense.kernel", "dense.bias",
        "dense_1.kernel", "dense_1.bias",
      ])
  }

  func testSeedExampleSummaryAndOutput() throws {
    // The tutorial's Conv2D(1, (3,3), relu) on 8x8x1 then GlobalMaxPooling2D: 10 params.
    let model = try Sequential(inputShape: [8, 8, 1]) {
      Conv2D(filters: 1, kernelSize: (3, 3), activation: .relu)
      GlobalMaxPooling2D()
    }
    XCTAssertEqual(model.parameterCount, 10)
    XCTAssertTrue(model.summary().contains("global_max_pooling2d (GlobalMaxPooling2D)"))
    try model.setWeights([Tensor(shape: [3, 3, 1, 1], values: [0, 1, 0, 0, 1, 0, 0, 1, 0]), Tensor(zeros: [1])])
    var v: [Float] = []
    for _ in 0..<8 { v += [0, 0, 0, 1, 1, 0, 0, 0] }
    XCTAssertEqual(try model.predict(Tensor(shape: [1, 8, 8, 1], values: v)).scalars, [3])
  }

  /// The seed model fuses each Conv2D with the MaxPooling2D after it; its outputs are exactly
  /// those of calling the layers one by one.
  func testFusedLayersGiveTheLayerByLayerOutput() throws {
    let model = try Zoo.model("seed", seed: 4)
    var rng = SeededRandom(seed: 2)
    let x = Tensor(zeros: [3, 32, 32, 3])
    for i in 0..<x.count { x[i] = rng.nextFloat() }
    var h = Variable(x)
    for layer in model.layers { h = try layer(h) }
    XCTAssertEqual(try model(Variable(x)).value.scalars, h.value.scalars)
    XCTAssertNotNil(try runFused(model.layers[0], model.layers[1], Variable(x)), "Conv2D then MaxPooling2D fuse")
    XCTAssertNil(try runFused(model.layers[1], model.layers[2], h), "other pairs do not")
  }

  /// fast93's blocks fuse BatchNormalization with the GELU after it: in inference and in a
  /// training step (outputs, every gradient, the moving statistics), the results are those
  /// of calling the layers one by one.
  func testFusedNormalizationGivesTheLayerByLayerResults() throws {
    var rng = SeededRandom(seed: 3)
    let x = Tensor(zeros: [4, 32, 32, 3])
    for i in 0..<x.count { x[i] = rng.nextFloat() }
    var results: [[UInt32]] = []
    for fused in [true, false] {
      let model = try Zoo.model("fast93", seed: 5)
      let pairs = (0..<(model.layers.count - 1)).filter {
        model.layers[$0] is BatchNormalization && model.layers[$0 + 1] is GELU
      }
      XCTAssertEqual(pairs.count, 6, "two in each of the three blocks")
      let tape = Tape()
      var h = tape.input(x)
      if fused {
        h = try model(h)
      } else {
        for layer in model.layers { h = try layer(h) }
      }
      try tape.backward(mean(h))
      let grads = model.trainableVariables.flatMap { $0.grad!.scalars }
      let moving = model.namedParameters.flatMap(\.variable.value.scalars)
      var inference = Variable(x)
      if fused {
        inference = try model(inference)
      } else {
        for layer in model.layers { inference = try layer(inference) }
      }
      results.append((h.value.scalars + grads + moving + inference.value.scalars).map(\.bitPattern))
    }
    XCTAssertTrue(results[0] == results[1])
  }

  func testResultBuilderControlFlow() throws {
    let deep = true
    let model = try Sequential(inputShape: [8, 8, 3]) {
      for f in [4, 8] { Conv2D(filters: f, kernelSize: (3, 3), padding: .same, activation: .relu) }
      if deep { MaxPooling2D() } else { AveragePooling2D() }
      GlobalAveragePooling2D()
      Dense(units: 3)
    }
    XCTAssertEqual(model.layerNames, ["conv2d", "conv2d_1", "max_pooling2d", "global_average_pooling2d", "dense"])
    XCTAssertEqual(model.outputShapes, [[8, 8, 4], [8, 8, 8], [4, 4, 8], [8], [3]])
  }

  func testImpossibleConfigurationsNameTheLayer() {
    func message(_ build: () throws -> Sequential) -> String {
      do {
        _ = try build()
        return "no error"
      } catch { return "\(error)" }
    }
    let pool = message {
      try Sequential(inputShape: [5, 5, 1]) {
        Conv2D(filters: 2, kernelSize: (3, 3))
        MaxPooling2D(poolSize: (4, 4))
      }
    }
    XCTAssertTrue(pool.contains("layer 1 (MaxPooling2D 'max_pooling2d') with input shape [3, 3, 2]"), pool)
    XCTAssertTrue(pool.contains("larger than its input 3x3"), pool)
    let kernel = message { try Sequential(inputShape: [2, 2, 1]) { Conv2D(filters: 1, kernelSize: (3, 3)) } }
    XCTAssertTrue(kernel.contains("layer 0 (Conv2D 'conv2d')"), kernel)
    let stride = message {
      try Sequential(inputShape: [8, 8, 1]) { Conv2D(filters: 1, kernelSize: (3, 3), strides: (0, 1)) }
    }
    XCTAssertTrue(stride.contains("strides must be positive"), stride)
    let zero = message {
      try Sequential(inputShape: [8, 8, 1]) {
        Flatten(); Dense(units: 0)
      }
    }
    XCTAssertTrue(zero.contains("layer 1 (Dense 'dense')") && zero.contains("units must be positive"), zero)
    let noFlatten = message { try Sequential(inputShape: [8, 8, 1]) { Dense(units: 3) } }
    XCTAssertTrue(noFlatten.contains("add a Flatten layer"), noFlatten)
    XCTAssertTrue(message { try Sequential(inputShape: [0, 8, 1]) { Flatten() } }.contains("positive sizes"))
  }

  func testWrongInputAndWeightsThrow() throws {
    let model = try smallModel()
    XCTAssertThrowsError(try model.predict(Tensor(zeros: [1, 5, 6, 1]))) {
      XCTAssertTrue("\($0)".contains("expects inputs of shape (N, 6, 6, 1), got [1, 5, 6, 1]"), "\($0)")
    }
    XCTAssertThrowsError(try model.setWeights([Tensor(zeros: [1])]))
    var ws = model.trainableVariables.map(\.value)
    ws[0] = Tensor(zeros: [3, 3, 1, 5])
    XCTAssertThrowsError(try model.setWeights(ws)) {
      XCTAssertTrue("\($0)".contains("conv2d.kernel has shape [3, 3, 1, 4]"), "\($0)")
    }
  }

  func testSameSeedSameWeights() throws {
    XCTAssertEqual(weights(try smallModel(seed: 5)), weights(try smallModel(seed: 5)))
    XCTAssertNotEqual(weights(try smallModel(seed: 5)), weights(try smallModel(seed: 6)))
  }
}
