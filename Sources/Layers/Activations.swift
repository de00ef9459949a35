import Autograd
import Tensors

/// max(x, 0), elementwise (Keras `ReLU`).
public final class ReLU: Layer {
  public init() {}
  public var typeName: String { "ReLU" }
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { relu(x) }
}

/// Softmax over the last axis (Keras `Softmax`).
public final class Softmax: Layer {
  public init() {}
  public var typeName: String { "Softmax" }
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { softmax(x) }
}

/// GELU, exact (erf-based) as PyTorch's default: x · Φ(x).
public final class GELU: Layer {
  public init() {}
  public var typeName: String { "GELU" }
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { gelu(x) }
}

/// Dropout (Keras `Dropout`): in training, each value is zeroed with probability `rate` and the
/// rest scaled by 1/(1 − rate); in inference, the identity. The draws follow the model's seed
/// and the data, so a run is reproducible and resumes exactly.
public final class Dropout: Layer {
  public let rate: Float
  private var seed: UInt64 = 0

  public init(rate: Float) { self.rate = rate }
  public var typeName: String { "Dropout" }

  public func outputShape(for s: [Int]) throws -> [Int] {
    guard rate >= 0, rate < 1 else { throw LayerError("Dropout: rate must lie in [0, 1), got \(rate)") }
    return s
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    seed = rng.next()
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    x.tape?.training == true ? try dropout(x, rate: rate, seed: seed) : x
  }
}

/// y = x · scale + offset (Keras `Rescaling`).
public final class Rescaling: Layer {
  public let scale: Float
  public let offset: Float
  public init(scale: Float, offset: Float = 0) {
    self.scale = scale
    self.offset = offset
  }
  public var typeName: String { "Rescaling" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    guard scale.isFinite, offset.isFinite else { throw LayerError("Rescaling: scale and offset must be finite") }
    return s
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    let c = x.shape.last ?? 1
    return try channelAffine(
      x, scale: [Float](repeating: scale, count: c), shift: [Float](repeating: offset, count: c))
  }
}
