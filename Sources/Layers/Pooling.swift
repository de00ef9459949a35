/// Max pooling (Keras `MaxPooling2D`): pool size (2, 2) by default, strides defaulting to
/// the pool size, valid or same padding.
public final class MaxPooling2D: Layer {
  public let poolSize: (Int, Int)
  public let strides: (Int, Int)
  public let padding: Padding

  public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.poolSize = poolSize
    self.strides = strides ?? poolSize
    self.padding = padding
  }

  public var typeName: String { "MaxPooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] {
    try poolOutputShape(s, poolSize, strides, padding, typeName)
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    try checkBatch(x, rank: 3, typeName)
    return try maxPool2d(x, pool: poolSize, strides: strides, padding: padding)
  }
}

/// Average pooling (Keras `AveragePooling2D`); with same padding, windows average only their
/// real cells.
public final class AveragePooling2D: Layer {
  public let poolSize: (Int, Int)
  public let strides: (Int, Int)
  public let padding: Padding

  public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.poolSize = poolSize
    self.strides = strides ?? poolSize
    self.padding = padding
  }

  public var typeName: String { "AveragePooling2D" }

  public func outputShape(for s: [Int]) throws -> [Int] {
    try poolOutputShape(s, poolSize, strides, padding, typeName)
  }

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

private func poolOutputShape(
  _ s: [Int], _ pool: (Int, Int), _ strides: (Int, Int), _ padding: Padding, _ name: String
) throws -> [Int] {
  try checkImage(s, name)
  try checkPositive(pool, "pool size", name)
  try checkPositive(strides, "strides", name)
  guard
    let h = padding.outputSize(input: s[0], window: pool.0, stride: strides.0),
    let w = padding.outputSize(input: s[1], window: pool.1, stride: strides.1)
  else {
    throw LayerError("\(name): pool \(pool.0)x\(pool.1) is larger than its input \(s[0])x\(s[1]) under valid padding")
  }
  return [h, w, s[2]]
}
