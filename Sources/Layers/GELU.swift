import Autograd
import Tensors

/// GELU, exact (erf-based) as PyTorch's default: x · Φ(x).
public final class GELU: ConfigurableLayer {
  public init() {}
  enum CodingKeys: CodingKey {}  // no options
  public static let typeName = "GELU"
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { gelu(x) }
}
