import Autograd
import Tensors

/// The mean of each channel's `k` largest values over the whole image: (H, W, C) -> (C).
public final class GlobalAvgTopKPooling2D: ConfigurableLayer {
  public let k: Int
  public init(k: Int) { self.k = k }
  enum CodingKeys: CodingKey { case k }
  public static let typeName = "GlobalAvgTopKPooling2D"
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    try checkTopK(k, cells: s[0] * s[1], window: "the \(s[0])x\(s[1]) image", typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try globalPool(x, typeName) { try avgTopKPool2d(x, k: k, pool: $0, strides: $0, padding: .valid) }
  }
}
