import Autograd
import Tensors

/// A named tensor of a layer: trainable ("kernel", "bias", "gamma"), or state that the layer
/// updates itself and checkpoints keep ("moving_mean"), as Keras's non-trainable weights.
public struct Parameter {
  public let name: String
  public let variable: Variable
  public let trainable: Bool

  public init(name: String, variable: Variable, trainable: Bool = true) {
    self.name = name
    self.variable = variable
    self.trainable = trainable
  }
}

/// A layer: called as a function on a batch, it owns its parameters and knows the shape it
/// produces. Shapes here leave out the batch axis, as Keras prints `(None, 30, 30, 32)`.
public protocol Layer: AnyObject {
  /// The Keras class name, for summaries and errors: "Conv2D", "MaxPooling2D", ...
  var typeName: String { get }
  /// The name a model gives it before numbering repeats (conv2d, conv2d_1, ...): by default
  /// the snake-case type name.
  var defaultName: String { get }
  /// Its parameters in a fixed order (empty until built), trainable or not.
  var parameters: [Parameter] { get }
  /// The output shape for an input shape; throws when the layer cannot take that input.
  func outputShape(for inputShape: [Int]) throws -> [Int]
  /// Creates the parameters for an input shape (once), drawing from `rng`.
  func build(inputShape: [Int], rng: inout SeededRandom) throws
  /// The forward pass on a batch [N, ...]: training when `x` is on a tape, inference
  /// otherwise.
  func callAsFunction(_ x: Variable) throws -> Variable
}

extension Layer {
  public var parameters: [Parameter] { [] }
  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
  }

  /// The Keras snake-case name: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d.
  public var defaultName: String {
    var out = ""
    let chars = Array(typeName)
    for (i, ch) in chars.enumerated() {
      if ch.isUppercase && i > 0 && (chars[i - 1].isLowercase || (i + 1 < chars.count && chars[i + 1].isLowercase)) {
        if !(chars[i - 1].isNumber) { out.append("_") }
      }
      out.append(Character(ch.lowercased()))
    }
    return out
  }

  /// A parameter created by `build`, or an error that names the layer when it is not built:
  /// `let scale = try built(self.scale)`.
  public func built(_ parameter: Variable?) throws -> Variable {
    guard let parameter else {
      throw LayerError("\(typeName) is not built: use it in a Sequential model or call build")
    }
    return parameter
  }

  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.variable.value.count } }

  /// Replaces the weights, in `parameters` order (Keras's `set_weights`); shapes must match.
  public func setWeights(_ weights: [Tensor]) throws {
    let params = parameters
    guard weights.count == params.count else {
      throw LayerError("\(typeName) has \(params.count) weight tensors, \(weights.count) were given")
    }
    for (p, w) in zip(params, weights) {
      guard p.variable.shape == w.shape else {
        throw LayerError("\(typeName) \(p.name) has shape \(p.variable.shape), the given weight has \(w.shape)")
      }
    }
    for (p, w) in zip(params, weights) { p.variable.value.data.update(from: w.data, count: w.count) }
  }
}

/// A configuration or input a layer cannot work with.
public struct LayerError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// The parameters of a layer with a kernel and an optional bias, in that order.
func kernelAndBias(_ kernel: Variable?, _ bias: Variable?) -> [Parameter] {
  [kernel.map { Parameter(name: "kernel", variable: $0) }, bias.map { Parameter(name: "bias", variable: $0) }]
    .compactMap { $0 }
}

/// Checks a positive (height, width) pair.
func checkPositive(_ pair: (Int, Int), _ what: String, _ layer: String) throws {
  guard pair.0 > 0, pair.1 > 0 else {
    throw LayerError("\(layer): \(what) must be positive, got (\(pair.0), \(pair.1))")
  }
}

/// Output height and width of a window ("kernel" or "pool") sliding over an image input.
func windowOutputSize(
  _ s: [Int], _ what: String, _ window: (Int, Int), _ strides: (Int, Int), _ padding: Padding, _ layer: String
) throws -> (Int, Int) {
  try checkImage(s, layer)
  try checkPositive(window, "\(what) size", layer)
  try checkPositive(strides, "strides", layer)
  guard
    let h = padding.outputSize(input: s[0], window: window.0, stride: strides.0),
    let w = padding.outputSize(input: s[1], window: window.1, stride: strides.1)
  else {
    throw LayerError(
      "\(layer): \(what) \(window.0)x\(window.1) is larger than its input \(s[0])x\(s[1]) under valid padding")
  }
  return (h, w)
}

/// Checks an image input [H, W, C] with positive sizes.
func checkImage(_ shape: [Int], _ layer: String) throws {
  guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
    throw LayerError("\(layer) expects an image input (height, width, channels), got \(shape)")
  }
}

/// The batch input to a layer: [N] + inputShape.
func checkBatch(_ x: Variable, rank: Int, _ layer: String) throws {
  guard x.shape.count == rank + 1 else {
    throw LayerError("\(layer) expects inputs of rank \(rank + 1) (batch first), got \(x.shape)")
  }
}
