import Autograd
import Datasets
import Layers
import Optimizers
import Tensors

/// Builds a layer list from a block: `Sequential(inputShape: [32, 32, 3]) { Conv2D(...); ... }`.
@resultBuilder
public enum LayerBuilder {
  public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
  public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
  public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
  public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
  public static func buildEither(first: [any Layer]) -> [any Layer] { first }
  public static func buildEither(second: [any Layer]) -> [any Layer] { second }
  public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}

/// A model configuration that cannot work, found when the model is built.
public struct ModelError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A linear stack of layers. Created with an input shape (without the batch axis), it is
/// built at once: every layer's output shape is checked and its weights drawn from `seed`.
/// Created without one, it is a block to use as a layer inside another model, built with it.
public final class Sequential: Layer {
  public let name: String
  public let layers: [any Layer]
  /// Keras-style unique names: conv2d, conv2d_1, max_pooling2d, ...
  public let layerNames: [String]
  /// The seed its weights were drawn from, when built by its own initialiser (0 for a block
  /// built inside another model, whose draws come from that model's seed).
  public private(set) var seed: UInt64 = 0
  /// The input shape it was built for (empty until built).
  public private(set) var inputShape: [Int] = []
  /// Each layer's output shape, without the batch axis (empty until built).
  public private(set) var outputShapes: [[Int]] = []
  public private(set) var optimizer: (any Optimizer)?
  public private(set) var loss: Loss?
  public private(set) var metrics: [Metric] = []

  /// A model built for `inputShape` from the layers of the block.
  public convenience init(
    inputShape: [Int], seed: UInt64 = 0, name: String = "sequential", @LayerBuilder _ layers: () throws -> [any Layer]
  ) throws {
    try self.init(inputShape: inputShape, layers: try layers(), seed: seed, name: name)
  }

  /// A model built for `inputShape`.
  public convenience init(inputShape: [Int], layers: [any Layer], seed: UInt64 = 0, name: String = "sequential")
    throws
  {
    guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
      throw ModelError("input shape \(inputShape) must have positive sizes")
    }
    try self.init(name: name, layers: layers)
    self.seed = seed
    var rng = SeededRandom(seed: seed)
    try build(inputShape: inputShape, rng: &rng)
  }

  /// A block of layers, built when the model that holds it is (or by `build`).
  public convenience init(name: String = "sequential", @LayerBuilder _ layers: () throws -> [any Layer]) throws {
    try self.init(name: name, layers: try layers())
  }

  /// A block of layers, built when the model that holds it is (or by `build`).
  public init(name: String = "sequential", layers: [any Layer]) throws {
    guard !layers.isEmpty else { throw ModelError("a Sequential model needs at least one layer") }
    var names: [String] = []
    var used: [String: Int] = [:]
    for layer in layers {
      let base = layer.defaultName
      let k = used[base, default: 0]
      used[base] = k + 1
      names.append(k == 0 ? base : "\(base)_\(k)")
    }
    self.name = name
    self.layers = layers
    layerNames = names
  }

  /// A block is named by its own name inside the model that holds it, as in Keras.
  public var defaultName: String { name }

  /// Builds every layer in turn for `inputShape`, drawing their weights from `rng`; once.
  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    if isBuilt {
      guard inputShape == self.inputShape else {
        throw ModelError("model '\(name)' is built for inputs \(self.inputShape), not \(inputShape)")
      }
      return
    }
    var shape = inputShape
    var shapes: [[Int]] = []
    for (i, layer) in layers.enumerated() {
      do {
        try layer.build(inputShape: shape, rng: &rng)
        shape = try layer.outputShape(for: shape)
      } catch {
        throw ModelError("layer \(i) (\(layer.typeName) '\(layerNames[i])') with input shape \(shape): \(error)")
      }
      shapes.append(shape)
    }
    self.inputShape = inputShape
    outputShapes = shapes
    let all = zip(layerNames, layers).flatMap { name, layer in layer.parameters.map { ("\(name).\($0.name)", $0) } }
    parameters = all.map { Parameter(name: $0.0, variable: $0.1.variable, trainable: $0.1.trainable) }
    namedParameters = all.map { ($0.0, $0.1.variable) }
    namedTrainableParameters = all.filter { $0.1.trainable }.map { ($0.0, $0.1.variable) }
    trainableVariables = namedTrainableParameters.map(\.variable)
  }

  public var isBuilt: Bool { !inputShape.isEmpty }

  public func outputShape(for inputShape: [Int]) throws -> [Int] {
    if isBuilt && inputShape == self.inputShape { return outputShape }
    var shape = inputShape
    for (i, layer) in layers.enumerated() {
      do {
        shape = try layer.outputShape(for: shape)
      } catch {
        throw ModelError("layer \(i) (\(layer.typeName) '\(layerNames[i])') with input shape \(shape): \(error)")
      }
    }
    return shape
  }

  public var outputShape: [Int] { outputShapes.last ?? inputShape }

  /// Every weight as a layer's parameter, named "conv2d.kernel", "dense_1.bias", ...
  public private(set) var parameters: [Parameter] = []

  /// Every weight with its checkpoint name, "conv2d.kernel", "dense_1.bias",
  /// "batch_normalization.moving_mean", in layer order, trainable or not. Fixed once the model
  /// is built (weights change in place).
  public private(set) var namedParameters: [(name: String, variable: Variable)] = []

  /// The trainable ones, in the same order: what the optimizer updates.
  public private(set) var namedTrainableParameters: [(name: String, variable: Variable)] = []

  /// The trainable variables alone.
  public private(set) var trainableVariables: [Variable] = []

  /// All weights, trainable or not.
  public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.variable.value.count } }

  public var trainableParameterCount: Int { trainableVariables.reduce(0) { $0 + $1.value.count } }

  /// The forward pass on a batch [N] + inputShape. On a tape it records for training; on a
  /// plain variable it runs in inference mode. Pairs of layers in `fusions` run as one op.
  public func callAsFunction(_ x: Variable) throws -> Variable {
    guard isBuilt else {
      throw ModelError("model '\(name)' is not built: give it an input shape, or use it inside a model that has one")
    }
    guard Array(x.shape.dropFirst()) == inputShape else {
      throw ModelError(
        "model '\(name)' expects inputs of shape (N, \(inputShape.map(String.init).joined(separator: ", "))), got \(x.shape)"
      )
    }
    var h = x
    var i = 0
    while i < layers.count {
      let layer = layers[i]
      do {
        if i + 1 < layers.count, let fused = try runFused(layer, layers[i + 1], h) {
          h = fused
          i += 2
          continue
        }
        h = try layer(h)
      } catch {
        throw ModelError("layer \(i) (\(layer.typeName) '\(layerNames[i])'): \(error)")
      }
      i += 1
    }
    return h
  }

  /// Sets the optimizer, loss and extra metrics used by `fit` and `evaluate` (Keras's
  /// `compile`).
  public func compile(optimizer: any Optimizer, loss: Loss, metrics: [Metric] = []) {
    self.optimizer = optimizer
    self.loss = loss
    self.metrics = metrics
  }

  /// Replaces all weights, in `namedParameters` order (Keras's `set_weights`).
  public func setWeights(_ weights: [Tensor]) throws {
    let params = namedParameters
    guard weights.count == params.count else {
      throw ModelError("the model has \(params.count) weight tensors, \(weights.count) were given")
    }
    for (p, w) in zip(params, weights) where p.variable.shape != w.shape {
      throw ModelError("weight \(p.name) has shape \(p.variable.shape), the given tensor has \(w.shape)")
    }
    for (p, w) in zip(params, weights) { p.variable.value.data.update(from: w.data, count: w.count) }
  }
}
