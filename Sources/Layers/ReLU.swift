import Autograd
import Tensors

/// max(x, 0), elementwise (Keras `ReLU`).
public final class ReLU: ConfigurableLayer {
  public init() {}
  enum CodingKeys: CodingKey {}  // no options
  public static let typeName = "ReLU"
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { relu(x) }
}
