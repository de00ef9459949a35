import Autograd
import Tensors

/// Avg-TopK pooling: the mean of the `k` largest values of each window. Of equal values the
/// earlier cell (row-major) ranks higher; the gradient goes 1/k to each chosen cell. A `same`
/// window at the border holding fewer than k real cells averages all of them.
public final class AvgTopKPooling2D: Pooling2D, ConfigurableLayer {
  public let k: Int

  public init(k: Int, poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.k = k
    super.init(poolSize: poolSize, strides: strides, padding: padding)
  }

  public static let typeName = "AvgTopKPooling2D"

  public required init(from decoder: any Decoder) throws {
    k = try Pooling2D.decodeOption("k", from: decoder)
    try super.init(from: decoder)
  }

  public override func encode(to encoder: any Encoder) throws {
    try super.encode(to: encoder)
    try Pooling2D.encodeOption(k, "k", to: encoder)
  }

  public func outputShape(for s: [Int]) throws -> [Int] {
    let out = try poolOutputShape(s, typeName)
    try checkTopK(k, cells: poolSize.0 * poolSize.1, window: "the \(poolSize.0)x\(poolSize.1) window", typeName)
    return out
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try avgTopKPool2d(x, k: k, pool: poolSize, strides: strides, padding: padding)
  }
}
