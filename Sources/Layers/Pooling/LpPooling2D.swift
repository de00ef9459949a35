import Autograd
import Tensors

/// Lp pooling as PyTorch's `LPPool2d`: (Σ xᵖ)^(1/p) over each window, a power sum (p = 1 is
/// sum pooling, large p approaches max pooling). Negative power sums give NaN, as in PyTorch;
/// see `lpPool2d` for the gradient of an all-zero window.
public final class LpPooling2D: Pooling2D, ConfigurableLayer {
  public let p: Float

  public init(p: Float, poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.p = p
    super.init(poolSize: poolSize, strides: strides, padding: padding)
  }

  public static let typeName = "LpPooling2D"

  public required init(from decoder: any Decoder) throws {
    p = try Pooling2D.decodeOption("p", from: decoder)
    try super.init(from: decoder)
  }

  public override func encode(to encoder: any Encoder) throws {
    try super.encode(to: encoder)
    try Pooling2D.encodeOption(p, "p", to: encoder)
  }

  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkPower(p, typeName)
    return try poolOutputShape(s, typeName)
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try lpPool2d(x, p: p, pool: poolSize, strides: strides, padding: padding)
  }
}
