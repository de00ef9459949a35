import Autograd
import Tensors

/// Flattens each example to one axis: (H, W, C) -> (H*W*C). A view, no copy.
public final class Flatten: ConfigurableLayer {
  public init() {}
  enum CodingKeys: CodingKey {}  // no options
  public static let typeName = "Flatten"
  public func outputShape(for s: [Int]) throws -> [Int] {
    guard !s.isEmpty, s.allSatisfy({ $0 > 0 }) else { throw LayerError("Flatten: bad input shape \(s)") }
    return [s.reduce(1, *)]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    guard let n = x.shape.first else { throw LayerError("Flatten: input has no batch axis") }
    return try reshape(x, to: [n, x.value.count / Swift.max(n, 1)])
  }
}
