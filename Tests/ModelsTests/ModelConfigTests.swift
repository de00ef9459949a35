import CNN
import Foundation
import XCTest

/// A model's config describes it well enough to rebuild it: same layers, names, shapes and,
/// with the checkpoint's weights, the same outputs.
final class ModelConfigTests: XCTestCase {
  /// Every built-in layer, in models whose outputs can be compared.
  func allLayerModels() throws -> [Sequential] {
    var models = try Zoo.names.map { try Zoo.model($0, seed: 3) }
    for choice in ["average", "min", "mixed", "lp", "avgtopk"] {
      models.append(try Zoo.model("tiny", seed: 1, pooling: PoolingChoice(name: choice, k: 3, p: 2.5)!))
    }
    models.append(
      try Sequential(inputShape: [8, 8, 3], seed: 2, name: "others") {
        Rescaling(scale: 2, offset: -1)
        Normalization(mean: [0.1, 0.2, 0.3], standardDeviation: [0.5, 0.6, 0.7])
        Conv2D(filters: 4, kernelSize: (3, 3), strides: (1, 1), padding: .same, useBias: false, activation: .gelu)
        ReLU()
        GELU()
        Dropout(rate: 0.25)
        MixedPooling2D(.fixed(0.3), poolSize: (2, 2), strides: (1, 1), padding: .same)
        MixedPooling2D(.random)
        MixedPooling2D(.learned(perChannel: true, initial: 0.7), poolSize: (3, 3), strides: (1, 1), padding: .same)
        try Residual {
          Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, activation: .relu)
          BatchNormalization(momentum: 0.9, epsilon: 1e-5, center: true, scale: false)
        }
        try Sequential {
          Conv2D(filters: 6, kernelSize: (1, 1))
          GlobalMixedPooling2D(.learned())
        }
        Dense(units: 5, activation: .softmax)
      })
    for global in [
      GlobalMaxPooling2D(), GlobalAveragePooling2D(), GlobalMinPooling2D(), GlobalAvgTopKPooling2D(k: 2),
      GlobalLpPooling2D(p: 3), GlobalMixedPooling2D(.fixed(0.5)),
    ] as [any Layer] {
      models.append(
        try Sequential(inputShape: [4, 4, 2], seed: 5) {
          global; Softmax()
        })
    }
    return models
  }

  func testConfigRoundTripsThroughJSONForEveryBuiltInLayer() throws {
    for model in try allLayerModels() {
      let config = try XCTUnwrap(try model.config(), model.summary())
      let json = try JSONEncoder().encode(config)
      let decoded = try JSONDecoder().decode(LayerConfig.self, from: json)
      XCTAssertEqual(decoded, config)
      let rebuilt = try Sequential(config: decoded)
      XCTAssertEqual(rebuilt.summary(), model.summary())
      XCTAssertEqual(try rebuilt.config(), config)
      XCTAssertEqual(rebuilt.namedParameters.map(\.name), model.namedParameters.map(\.name))
      XCTAssertEqual(rebuilt.namedParameters.map(\.variable.shape), model.namedParameters.map(\.variable.shape))
    }
  }

  func testRestoredModelPredictsWhatTheSavedOneDid() throws {
    for model in try allLayerModels() {
      let path = tempPath("config.safetensors")
      defer { try? FileManager.default.removeItem(atPath: path) }
      try model.save(to: path)
      let restored = try Sequential.restored(from: path)
      let x = Tensor(zeros: [2] + model.inputShape)
      var rng = SeededRandom(seed: 9)
      for i in 0..<x.count { x[i] = rng.nextFloat() }
      XCTAssertEqual(try restored.predict(x).scalars, try model.predict(x).scalars, model.name)
    }
  }

  func testCheckpointsWithoutAConfigStillLoadAndSayWhatIsMissing() throws {
    let model = try smallModel()
    let path = tempPath("old.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.save(to: path, metadata: [Sequential.modelConfigKey: "{}"])
    XCTAssertThrowsError(try Sequential.restored(from: path)) {
      XCTAssert("\($0)".contains("not a valid model config"), "\($0)")
    }
    // A file as older versions wrote it: the same tensors, no model_config.
    let (tensors, metadata) = try SafeTensors.read(path)
    try SafeTensors.write(tensors, metadata: metadata.filter { $0.key != Sequential.modelConfigKey }, to: path)
    XCTAssertNoThrow(try smallModel(seed: 1).load(from: path))
    XCTAssertThrowsError(try Sequential.restored(from: path)) {
      XCTAssert("\($0)".contains("does not describe its model"), "\($0)")
    }
  }

  func testUnknownLayerTypesAndBadOptionsAreClearErrors() throws {
    var config = try XCTUnwrap(try smallModel().config())
    config.layers![0].type = "Conv3D"
    XCTAssertThrowsError(try Sequential(config: config)) {
      XCTAssert("\($0)".contains("no layer type 'Conv3D' is registered"), "\($0)")
    }
    config.layers![0].type = "Conv2D"
    config.layers![0].options["padding"] = .string("full")
    XCTAssertThrowsError(try Sequential(config: config)) {
      XCTAssert("\($0)".contains("'padding' must be one of 'valid', 'same', got 'full'"), "\($0)")
    }
  }
}
