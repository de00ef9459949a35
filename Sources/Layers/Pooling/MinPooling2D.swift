import Autograd
import Tensors

/// Min pooling: the smallest value of each window (the first in row-major order on ties);
/// padded cells never win.
public final class MinPooling2D: Pooling2D, ConfigurableLayer {
  public static let typeName = "MinPooling2D"

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try minPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}
