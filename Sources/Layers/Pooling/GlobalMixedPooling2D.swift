import Autograd
import Tensors

/// λ · max + (1 − λ) · average of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalMixedPooling2D: ConfigurableLayer {
  public let mixing: Mixing
  private var lambda: Variable?
  private var seed: UInt64 = 0
  public init(_ mixing: Mixing = .learned()) { self.mixing = mixing }
  public static let typeName = "GlobalMixedPooling2D"
  public init(from decoder: any Decoder) throws { mixing = try Mixing(from: decoder) }
  public func encode(to encoder: any Encoder) throws { try mixing.encode(to: encoder) }
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
