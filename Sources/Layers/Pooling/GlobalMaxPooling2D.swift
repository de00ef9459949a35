import Autograd
import Tensors

/// The largest value of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalMaxPooling2D: ConfigurableLayer {
  public init() {}
  enum CodingKeys: CodingKey {}  // no options
  public static let typeName = "GlobalMaxPooling2D"
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try globalMaxPool2d(x)
  }
}
