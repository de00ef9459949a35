import Autograd
import Tensors

/// (Σ xᵖ)^(1/p) of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalLpPooling2D: ConfigurableLayer {
  public let p: Float
  public init(p: Float) { self.p = p }
  enum CodingKeys: CodingKey { case p }
  public static let typeName = "GlobalLpPooling2D"
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkPower(p, typeName)
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try globalPool(x, typeName) { try lpPool2d(x, p: p, pool: $0, strides: $0, padding: .valid) }
  }
}
