import Foundation
import Layers
import Tensors

// A model's configuration in its checkpoint: the `model_config` metadata field holds the
// Sequential's config as JSON, so that `Sequential.restored(from:)` (and `cnn evaluate`)
// rebuild a model defined in Swift code from its checkpoint alone.

extension Sequential: SavableLayer {
  public static let typeName = "Sequential"

  /// Its config and its layers'; nil when some layer cannot be saved (a custom layer that is
  /// not a `SavableLayer`).
  public func config() throws -> LayerConfig? {
    let inner = try layers.map { try $0.savedConfig() }
    guard inner.allSatisfy({ $0 != nil }) else { return nil }
    var options: [String: ConfigValue] = ["name": .string(name)]
    if isBuilt {
      options["input_shape"] = .numbers(inputShape.map(Double.init))
      // As a decimal string: a 64-bit seed does not fit a JSON number exactly.
      options["seed"] = .string(String(seed))
    }
    return LayerConfig(Self.typeName, options, layers: inner.compactMap { $0 })
  }

  /// A block of the layers a config lists (built with the model that holds it).
  public static func make(from config: LayerConfig) throws -> Sequential {
    try Sequential(name: try config.string("name"), layers: try (config.layers ?? []).map(LayerRegistry.make))
  }

  /// The model a config describes, built for its input shape with weights drawn from the seed
  /// it records (else `seed`).
  public convenience init(config: LayerConfig, seed: UInt64 = 0) throws {
    registerContainers()
    guard config.type == Self.typeName else {
      throw ModelError("a model config must be a Sequential, got \(config.type)")
    }
    let shape = try config.floats("input_shape").map { Int(exactly: $0) ?? 0 }
    let savedSeed = config.options["seed"] == nil ? seed : UInt64(try config.string("seed"))
    guard let savedSeed else { throw ModelError("a model config's seed must be a whole number") }
    try self.init(
      inputShape: shape, layers: try (config.layers ?? []).map(LayerRegistry.make), seed: savedSeed,
      name: try config.string("name"))
  }

  /// The model saved in a checkpoint, rebuilt from its `model_config` and with its weights
  /// loaded (not compiled: call `compile` to train or to get a loss).
  public static func restored(from path: String) throws -> Sequential {
    let metadata = try SafeTensors.readMetadata(path)
    guard let json = metadata[modelConfigKey] else {
      throw ModelError("checkpoint \(quoted(path)) does not describe its model (no \(modelConfigKey) in its metadata)")
    }
    let config: LayerConfig
    do {
      config = try JSONDecoder().decode(LayerConfig.self, from: Data(json.utf8))
    } catch {
      throw ModelError("checkpoint \(quoted(path)): its \(modelConfigKey) is not a valid model config")
    }
    let model = try Sequential(config: config)
    try model.load(from: path)
    return model
  }

  /// The metadata field that holds the model's config.
  public static let modelConfigKey = "model_config"

  /// The config as one line of JSON, keys sorted; nil when there is none.
  func configJSON() throws -> String? {
    guard let config = try config() else { return nil }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(config), as: UTF8.self)
    } catch {
      throw ModelError("the model's config cannot be saved: \(error)")
    }
  }
}

extension Residual: SavableLayer {
  public static let typeName = "Residual"

  public func config() throws -> LayerConfig? {
    try block.config().map { LayerConfig(Self.typeName, [:], layers: $0.layers) }
  }

  public static func make(from config: LayerConfig) throws -> Residual {
    try Residual(layers: try (config.layers ?? []).map(LayerRegistry.make))
  }
}

/// Registers the containers of this module with `LayerRegistry` (once).
private func registerContainers() { _ = containersRegistered }

private let containersRegistered: Void = {
  // A type a user registered under these names first keeps its registration.
  for type: any SavableLayer.Type in [Sequential.self, Residual.self] where !LayerRegistry.isRegistered(type.typeName) {
    LayerRegistry.register(type)
  }
}()
