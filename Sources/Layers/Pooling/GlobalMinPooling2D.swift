import Autograd
import Tensors

/// The smallest value of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalMinPooling2D: ConfigurableLayer {
  public init() {}
  enum CodingKeys: CodingKey {}  // no options
  public static let typeName = "GlobalMinPooling2D"
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try globalPool(x, typeName) { try minPool2d(x, pool: $0, strides: $0, padding: .valid) }
  }
}
