import Autograd
import Layers
import Tensors

/// A residual block: output = input + block(input), the block's layers given as in
/// `Sequential`; its output shape must equal its input shape.
///
///     Residual {
///       Conv2D(filters: 64, kernelSize: (3, 3), padding: .same, activation: .relu)
///       Conv2D(filters: 64, kernelSize: (3, 3), padding: .same)
///     }
public final class Residual: Layer {
  public let block: Sequential

  public convenience init(@LayerBuilder _ layers: () throws -> [any Layer]) throws {
    try self.init(layers: try layers())
  }

  public init(layers: [any Layer]) throws {
    block = try Sequential(name: "residual", layers: layers)
  }

  public var parameters: [Parameter] { block.parameters }

  public func outputShape(for inputShape: [Int]) throws -> [Int] {
    let out = try block.outputShape(for: inputShape)
    guard out == inputShape else {
      throw LayerError("the block maps \(inputShape) to \(out); it must keep the shape")
    }
    return out
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    try block.build(inputShape: inputShape, rng: &rng)
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    guard block.isBuilt else { throw LayerError("Residual is not built: use it inside a model with an input shape") }
    return try x + block(x)
  }
}
