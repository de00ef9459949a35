/// max(x, 0), elementwise (Keras `ReLU`).
public final class ReLU: Layer {
  public init() {}
  public var typeName: String { "ReLU" }
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { relu(x) }
}

/// Softmax over the last axis (Keras `Softmax`).
public final class Softmax: Layer {
  public init() {}
  public var typeName: String { "Softmax" }
  public func outputShape(for s: [Int]) throws -> [Int] { s }
  public func callAsFunction(_ x: Variable) throws -> Variable { softmax(x) }
}
