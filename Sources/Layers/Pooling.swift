import Autograd
import Tensors

/// What a windowed pooling layer is configured with: pool size ((2, 2) by default), strides
/// (defaulting to the pool size, as in Keras) and valid or same padding.
public class Pooling2D {
  public let poolSize: (Int, Int)
  public let strides: (Int, Int)
  public let padding: Padding

  public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.poolSize = poolSize
    self.strides = strides ?? poolSize
    self.padding = padding
  }

  func poolOutputShape(_ s: [Int], _ name: String) throws -> [Int] {
    let (h, w) = try windowOutputSize(s, "pool", poolSize, strides, padding, name)
    return [h, w, s[2]]
  }
}

/// Max pooling (Keras `MaxPooling2D`); padded cells never win.
public final class MaxPooling2D: Pooling2D, Layer {
  public var typeName: String { "MaxPooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try maxPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}

/// Average pooling (Keras `AveragePooling2D`); with same padding, windows average only their
/// real cells.
public final class AveragePooling2D: Pooling2D, Layer {
  public var typeName: String { "AveragePooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try avgPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}

/// The largest value of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalMaxPooling2D: Layer {
  public init() {}
  public var typeName: String { "GlobalMaxPooling2D" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try globalMaxPool2d(x)
  }
}

/// The mean of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalAveragePooling2D: Layer {
  public init() {}
  public var typeName: String { "GlobalAveragePooling2D" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try globalAvgPool2d(x)
  }
}

/// Min pooling: the smallest value of each window (the first in row-major order on ties);
/// padded cells never win.
public final class MinPooling2D: Pooling2D, Layer {
  public var typeName: String { "MinPooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try minPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}

/// Avg-TopK pooling: the mean of the `k` largest values of each window. Of equal values the
/// earlier cell (row-major) ranks higher; the gradient goes 1/k to each chosen cell. A `same`
/// window at the border holding fewer than k real cells averages all of them.
public final class AvgTopKPooling2D: Pooling2D, Layer {
  public let k: Int

  public init(k: Int, poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.k = k
    super.init(poolSize: poolSize, strides: strides, padding: padding)
  }

  public var typeName: String { "AvgTopKPooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] {
    let out = try poolOutputShape(s, typeName)
    try checkTopK(k, cells: poolSize.0 * poolSize.1, window: "the \(poolSize.0)x\(poolSize.1) window", typeName)
    return out
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try avgTopKPool2d(x, k: k, pool: poolSize, strides: strides, padding: padding)
  }
}

/// Lp pooling as PyTorch's `LPPool2d`: (Σ xᵖ)^(1/p) over each window, a power sum (p = 1 is
/// sum pooling, large p approaches max pooling). Negative power sums give NaN, as in PyTorch;
/// see `lpPool2d` for the gradient of an all-zero window.
public final class LpPooling2D: Pooling2D, Layer {
  public let p: Float

  public init(p: Float, poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.p = p
    super.init(poolSize: poolSize, strides: strides, padding: padding)
  }

  public var typeName: String { "LpPooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkPower(p, typeName)
    return try poolOutputShape(s, typeName)
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try lpPool2d(x, p: p, pool: poolSize, strides: strides, padding: padding)
  }
}

/// How a mixed pooling weighs max against average: λ · max + (1 − λ) · average.
public enum Mixing: Sendable {
  /// λ is a trainable parameter, one for the layer or one per channel, starting at `initial`
  /// and clamped to [0, 1] (Lee et al. 2016). The default: it is deterministic, costs one
  /// parameter, trains and infers alike, and can settle on max (λ = 1) or average (λ = 0).
  case learned(perChannel: Bool = false, initial: Float = 0.5)
  /// λ is 0 or 1 at random per window and channel in training, and its expectation 0.5 in
  /// inference (Yu et al. 2014).
  case random
  /// A constant λ.
  case fixed(Float)
}

/// Mixed pooling: λ · max + (1 − λ) · average of each window's real cells (see `Mixing`).
public final class MixedPooling2D: Pooling2D, Layer {
  public let mixing: Mixing
  private var lambda: Variable?
  private var seed: UInt64 = 0

  public init(
    _ mixing: Mixing = .learned(), poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid
  ) {
    self.mixing = mixing
    super.init(poolSize: poolSize, strides: strides, padding: padding)
  }

  public var typeName: String { "MixedPooling2D" }

  public var parameters: [Parameter] { lambda.map { [Parameter(name: "mixing", variable: $0)] } ?? [] }

  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkMixing(mixing, typeName)
    return try poolOutputShape(s, typeName)
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    lambda = try makeMixing(mixing, channels: inputShape[2], seed: &seed, rng: &rng)
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try mixedPool2d(
      x, lambda: try mixingWeight(mixing, lambda, seed: seed, x, typeName), pool: poolSize, strides: strides,
      padding: padding)
  }
}

/// The smallest value of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalMinPooling2D: Layer {
  public init() {}
  public var typeName: String { "GlobalMinPooling2D" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try globalPool(x, typeName) { try minPool2d(x, pool: $0, strides: $0, padding: .valid) }
  }
}

/// The mean of each channel's `k` largest values over the whole image: (H, W, C) -> (C).
public final class GlobalAvgTopKPooling2D: Layer {
  public let k: Int
  public init(k: Int) { self.k = k }
  public var typeName: String { "GlobalAvgTopKPooling2D" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    try checkTopK(k, cells: s[0] * s[1], window: "the \(s[0])x\(s[1]) image", typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try globalPool(x, typeName) { try avgTopKPool2d(x, k: k, pool: $0, strides: $0, padding: .valid) }
  }
}

/// (Σ xᵖ)^(1/p) of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalLpPooling2D: Layer {
  public let p: Float
  public init(p: Float) { self.p = p }
  public var typeName: String { "GlobalLpPooling2D" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkPower(p, typeName)
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try globalPool(x, typeName) { try lpPool2d(x, p: p, pool: $0, strides: $0, padding: .valid) }
  }
}

/// λ · max + (1 − λ) · average of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalMixedPooling2D: Layer {
  public let mixing: Mixing
  private var lambda: Variable?
  private var seed: UInt64 = 0
  public init(_ mixing: Mixing = .learned()) { self.mixing = mixing }
  public var typeName: String { "GlobalMixedPooling2D" }
  public var parameters: [Parameter] { lambda.map { [Parameter(name: "mixing", variable: $0)] } ?? [] }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkMixing(mixing, typeName)
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    lambda = try makeMixing(mixing, channels: inputShape[2], seed: &seed, rng: &rng)
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    let weight = try mixingWeight(mixing, lambda, seed: seed, x, typeName)
    return try globalPool(x, typeName) { try mixedPool2d(x, lambda: weight, pool: $0, strides: $0, padding: .valid) }
  }
}

/// A global pooling as the windowed one over the whole image, reshaped to [N, C].
private func globalPool(_ x: Variable, _ layer: String, _ op: ((Int, Int)) throws -> Variable) throws -> Variable {
  try checkBatch(x, rank: 3, layer)
  return try reshape(try op((x.shape[1], x.shape[2])), to: [x.shape[0], x.shape[3]])
}

private func checkTopK(_ k: Int, cells: Int, window: String, _ layer: String) throws {
  guard k >= 1 else { throw LayerError("\(layer): k must be at least 1, got \(k)") }
  guard k <= cells else { throw LayerError("\(layer): k \(k) is larger than \(window) (\(cells) cells)") }
}

private func checkPower(_ p: Float, _ layer: String) throws {
  guard p > 0, p.isFinite else { throw LayerError("\(layer): p must be a finite number above 0, got \(p)") }
}

private func checkMixing(_ mixing: Mixing, _ layer: String) throws {
  switch mixing {
  case .learned(_, let l), .fixed(let l):
    guard (0...1).contains(l) else { throw LayerError("\(layer): lambda must lie in [0, 1], got \(l)") }
  case .random: break
  }
}

/// The trainable λ of a learned mixing (nil otherwise); a random mixing draws its seed.
private func makeMixing(_ mixing: Mixing, channels: Int, seed: inout UInt64, rng: inout SeededRandom) throws
  -> Variable?
{
  switch mixing {
  case .learned(let perChannel, let initial):
    return Variable(Tensor(shape: [perChannel ? channels : 1], repeating: initial), requiresGrad: true)
  case .random:
    seed = rng.next()
    return nil
  case .fixed: return nil
  }
}

/// λ for one call: the learned variable, the constant, or random draws in training and their
/// expectation (0.5) in inference.
private func mixingWeight(_ mixing: Mixing, _ lambda: Variable?, seed: UInt64, _ x: Variable, _ layer: String) throws
  -> MixingWeight
{
  switch mixing {
  case .learned:
    guard let lambda else { throw LayerError("\(layer) is not built: use it in a Sequential model or call build") }
    return .variable(lambda)
  case .fixed(let l): return .variable(Variable(Tensor(shape: [1], repeating: l)))
  case .random:
    return x.tape?.training == true ? .random(seed: seed) : .variable(Variable(Tensor(shape: [1], repeating: 0.5)))
  }
}
