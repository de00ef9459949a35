/// What a windowed pooling layer is configured with: pool size ((2, 2) by default), strides
/// (defaulting to the pool size, as in Keras) and valid or same padding.
public class Pooling2D {
  public let poolSize: (Int, Int)
  public let strides: (Int, Int)
  public let padding: Padding

  public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.poolSize = poolSize
    self.strides = strides ?? poolSize
    self.padding = padding
  }

  func poolOutputShape(_ s: [Int], _ name: String) throws -> [Int] {
    let (h, w) = try windowOutputSize(s, "pool", poolSize, strides, padding, name)
    return [h, w, s[2]]
  }
}

/// Max pooling (Keras `MaxPooling2D`); padded cells never win.
public final class MaxPooling2D: Pooling2D, Layer {
  public var typeName: String { "MaxPooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try maxPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}

/// Average pooling (Keras `AveragePooling2D`); with same padding, windows average only their
/// real cells.
public final class AveragePooling2D: Pooling2D, Layer {
  public var typeName: String { "AveragePooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] { try poolOutputShape(s, typeName) }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try avgPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}

/// The largest value of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalMaxPooling2D: Layer {
  public init() {}
  public var typeName: String { "GlobalMaxPooling2D" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try globalMaxPool2d(x)
  }
}

/// The mean of each channel over the whole image: (H, W, C) -> (C).
public final class GlobalAveragePooling2D: Layer {
  public init() {}
  public var typeName: String { "GlobalAveragePooling2D" }
  public func outputShape(for s: [Int]) throws -> [Int] {
    try checkImage(s, typeName)
    return [s[2]]
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try globalAvgPool2d(x)
  }
}
