import CNN
import Foundation
import XCTest

/// Recipes as values: the fast recipe's parts become callbacks, a part changed is one line,
/// and the recipe trains any image data through `fit`.
final class RecipeTests: XCTestCase {
  /// Small colour images, 32×32, the label in the red level.
  func images(_ count: Int, seed: UInt64) throws -> ImageDataset {
    var rng = SeededRandom(seed: seed)
    var pixels: [UInt8] = []
    var labels: [UInt8] = []
    for _ in 0..<count {
      let label = rng.nextInt(below: 2)
      labels.append(UInt8(label))
      for _ in 0..<(32 * 32) {
        pixels += [UInt8(label * 100 + rng.nextInt(below: 100)), UInt8(rng.nextInt(below: 256)), 90]
      }
    }
    return try ImageDataset(images: pixels, labels: labels, height: 32, width: 32, channels: 3, classNames: ["a", "b"])
  }

  /// fast93's network at widths 4/4/4, whole batches of 16.
  func small(_ recipe: Recipe, whitening: Bool = true) -> Recipe {
    var r = recipe
    r.network = { try Zoo.fastNetwork(widths: [4, 4, 4], whitening: whitening, inputShape: $0, classes: $1, seed: $2) }
    r.batchSize = 16
    r.epochs = 3
    r.whiteningBiasEpochs = 1
    return r
  }

  func testFastRecipeCallbacks() throws {
    let recipe = Recipe.fast93
    let model = try recipe.makeModel()
    let callbacks = recipe.callbacks(for: model)
    XCTAssertEqual(
      callbacks.map { "\(type(of: $0))" },
      ["LearningRateScheduler", "RateMultiplier", "WhiteningFromData", "TrainUntil", "WeightAveraging"])
    XCTAssertEqual((callbacks[3] as? TrainUntil)?.names, ["conv2d.bias"])
    XCTAssertEqual(try recipe.totalSteps(examples: 50_000), 11 * 48)
    XCTAssertEqual(try Recipe.fast94.totalSteps(examples: 50_000), 476, "9.9 epochs of 48 steps, rounded up")
    var wrong = recipe
    wrong.epochs = .nan
    XCTAssertThrowsError(try wrong.totalSteps(examples: 100)) { XCTAssert("\($0)".contains("epochs"), "\($0)") }
    wrong = recipe
    wrong.batchSize = 0
    XCTAssertThrowsError(try wrong.totalSteps(examples: 100)) { XCTAssert("\($0)".contains("batch size"), "\($0)") }

    var plain = small(Recipe.fast93, whitening: false)
    plain.weightAveraging = false
    plain.schedule = .constant
    plain.offsetRateMultiplier = 1
    XCTAssertTrue(plain.callbacks(for: try plain.makeModel(inputShape: [32, 32, 3], classes: 2)).isEmpty)
    XCTAssertEqual(try Recipe.zoo("seed").makeModel().summary(), try Zoo.model("seed").summary())
    XCTAssertThrowsError(try Recipe.zoo("fast93", pooling: .average))
  }

  /// The whitening layer is set from the data at the start, its bias trains in the first
  /// epoch only, the offsets' rate is 64-fold, and the run ends with the rate set back.
  func testRecipeTrainsThroughItsCallbacks() throws {
    let data = try images(48, seed: 1)
    let recipe = small(Recipe.fast93)
    let model = try recipe.makeModel(inputShape: [32, 32, 3], classes: 2, seed: 3)
    let whitening = try XCTUnwrap(model.layers[1] as? Conv2D)
    var biases: [[Float]] = []
    let watch = AfterEachStep { _ in biases.append(whitening.bias!.value.scalars) }
    let results = try recipe.train(model, on: data, validation: try images(20, seed: 2), extra: [watch])
    XCTAssertEqual(results.count, 3)
    XCTAssertEqual(biases.count, 9, "3 whole batches of 16 in each of 3 epochs")
    let expected = try Whitening.kernel(from: data) { try model.layers[0](Variable($0)).value }
    XCTAssertEqual(whitening.kernel!.value.scalars, expected.scalars, "set from the data, then frozen")
    XCTAssertNotEqual(biases[0], biases[2], "the bias trains in epoch 1")
    XCTAssertEqual(biases[2], biases[8], "and is frozen after")
    let beta = try XCTUnwrap(model.namedTrainableParameters.first { $0.name.hasSuffix(".beta") })
    XCTAssertEqual(beta.variable.learningRateMultiplier, 64)
    XCTAssertEqual(model.optimizer!.learningRate, recipe.learningRate)
    XCTAssertNotNil(results.last?.learningRate, "the schedule records its rate")
    XCTAssertGreaterThan(try recipe.finalEvaluation(of: model, on: data).accuracy, 0.5)
  }

  /// A run of the recipe saved by `ModelCheckpoint` and resumed with the recipe's callbacks
  /// (weight averaging's state from the file) ends with the straight run's weights.
  func testRecipeResumesExactly() throws {
    var recipe = small(Recipe.fast93)
    recipe.epochs = 5
    let data = try images(48, seed: 1)
    let straight = try recipe.makeModel(inputShape: [32, 32, 3], classes: 2, seed: 3)
    try recipe.train(straight, on: data)
    let path = tempPath("recipe.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let first = try recipe.makeModel(inputShape: [32, 32, 3], classes: 2, seed: 3)
    try recipe.train(first, on: data, extra: [SaveAndStop(after: 4, to: path)])
    let resumed = try recipe.makeModel(inputShape: [32, 32, 3], classes: 2, seed: 9)
    let callbacks = recipe.callbacks(for: resumed)
    let saved = try resumed.load(from: path, restoreOptimizer: true, callbacks: callbacks)
    XCTAssertEqual(saved.metadata[Checkpoint.stateNamesKey], "averaged")
    try recipe.train(resumed, on: data, initialEpoch: saved.epoch, callbacks: callbacks)
    XCTAssertEqual(
      resumed.namedParameters.map(\.variable.value.scalars), straight.namedParameters.map(\.variable.value.scalars))
  }
}
