import Autograd
import Tensors

/// Average pooling (Keras `AveragePooling2D`); with same padding, windows average only their
/// real cells.
public final class AveragePooling2D: Pooling2D, ConfigurableLayer {
  public static let typeName = "AveragePooling2D"

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try avgPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}
