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

/// A linear stack of layers, built for an input shape (without the batch axis) as soon as it
/// is created: every layer's output shape is checked and its weights drawn from `seed`.
public final class Sequential {
  public let name: String
  public let inputShape: [Int]
  public let layers: [any Layer]
  /// Keras-style unique names: conv2d, conv2d_1, max_pooling2d, ...
  public let layerNames: [String]
  /// Each layer's output shape, without the batch axis.
  public let outputShapes: [[Int]]
  public private(set) var optimizer: (any Optimizer)?
  public private(set) var loss: Loss?

  public convenience init(
    inputShape: [Int], seed: UInt64 = 0, name: String = "sequential", @LayerBuilder _ layers: () -> [any Layer]
  ) throws {
    try self.init(inputShape: inputShape, layers: layers(), seed: seed, name: name)
  }

  public init(inputShape: [Int], layers: [any Layer], seed: UInt64 = 0, name: String = "sequential") throws {
    guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
      throw ModelError("input shape \(inputShape) must have positive sizes")
    }
    guard !layers.isEmpty else { throw ModelError("a Sequential model needs at least one layer") }
    var rng = SeededRandom(seed: seed)
    var shape = inputShape
    var shapes: [[Int]] = []
    var names: [String] = []
    var used: [String: Int] = [:]
    for (i, layer) in layers.enumerated() {
      let base = layer.defaultName
      let k = used[base, default: 0]
      used[base] = k + 1
      names.append(k == 0 ? base : "\(base)_\(k)")
      do {
        try layer.build(inputShape: shape, rng: &rng)
        shape = try layer.outputShape(for: shape)
      } catch {
        throw ModelError("layer \(i) (\(layer.typeName) '\(names[i])') with input shape \(shape): \(error)")
      }
      shapes.append(shape)
    }
    self.name = name
    self.inputShape = inputShape
    self.layers = layers
    layerNames = names
    outputShapes = shapes
    let all = zip(names, layers).flatMap { name, layer in layer.parameters.map { ("\(name).\($0.name)", $0) } }
    namedParameters = all.map { ($0.0, $0.1.variable) }
    namedTrainableParameters = all.filter { $0.1.trainable }.map { ($0.0, $0.1.variable) }
    parameters = namedTrainableParameters.map(\.variable)
  }

  public var outputShape: [Int] { outputShapes.last ?? inputShape }

  /// Every weight with its checkpoint name, "conv2d.kernel", "dense_1.bias",
  /// "batch_normalization.moving_mean", in layer order, trainable or not. Fixed once the model
  /// is built (weights change in place).
  public let namedParameters: [(name: String, variable: Variable)]

  /// The trainable ones, in the same order: what the optimizer updates.
  public let namedTrainableParameters: [(name: String, variable: Variable)]

  /// The trainable parameters alone.
  public let parameters: [Variable]

  /// All weights, trainable or not.
  public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.variable.value.count } }

  public var trainableParameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

  /// The forward pass on a batch [N] + inputShape. On a tape it records for training; on a
  /// plain variable it runs in inference mode.
  public func callAsFunction(_ x: Variable) throws -> Variable {
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
        // A pair of layers with a fused op (Conv2D then MaxPooling2D) runs as one, with the
        // same results.
        if i + 1 < layers.count, let fused = try layer(h, then: layers[i + 1]) {
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

  /// Sets the optimizer and loss used by `fit` (Keras's `compile`).
  public func compile(optimizer: any Optimizer, loss: Loss) {
    self.optimizer = optimizer
    self.loss = loss
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
