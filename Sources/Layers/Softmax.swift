import Autograd
import Tensors

/// Softmax over the last axis (Keras `Softmax`).
public final class Softmax: ConfigurableLayer {
  public init() {}
  enum CodingKeys: CodingKey {}  // no options
  public static let typeName = "Softmax"
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { softmax(x) }
}
