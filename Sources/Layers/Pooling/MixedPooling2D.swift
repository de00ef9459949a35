import Autograd
import Tensors

/// Mixed pooling: λ · max + (1 − λ) · average of each window's real cells (see `Mixing`).
public final class MixedPooling2D: Pooling2D, ConfigurableLayer {
  public let mixing: Mixing
  private var lambda: Variable?
  private var seed: UInt64 = 0

  public init(
    _ mixing: Mixing = .learned(), poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid
  ) {
    self.mixing = mixing
    super.init(poolSize: poolSize, strides: strides, padding: padding)
  }

  public static let typeName = "MixedPooling2D"

  public required init(from decoder: any Decoder) throws {
    mixing = try Mixing(from: decoder)
    try super.init(from: decoder)
  }

  public override func encode(to encoder: any Encoder) throws {
    try super.encode(to: encoder)
    try mixing.encode(to: encoder)
  }

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
