import Autograd
import Tensors

/// Max pooling (Keras `MaxPooling2D`); padded cells never win.
public final class MaxPooling2D: Pooling2D, ConfigurableLayer {
  public static let typeName = "MaxPooling2D"

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try maxPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}
