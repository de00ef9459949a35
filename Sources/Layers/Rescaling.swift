import Autograd
import Tensors

/// y = x · scale + offset (Keras `Rescaling`).
public final class Rescaling: ConfigurableLayer {
  public let scale: Float
  public let offset: Float
  enum CodingKeys: CodingKey {
    case scale, offset
  }
  public init(scale: Float, offset: Float = 0) {
    self.scale = scale
    self.offset = offset
  }
  public static let typeName = "Rescaling"
  public func outputShape(for s: [Int]) throws -> [Int] {
    guard scale.isFinite, offset.isFinite else { throw LayerError("Rescaling: scale and offset must be finite") }
    return s
  }
  public func callAsFunction(_ x: Variable) throws -> Variable {
    let c = x.shape.last ?? 1
    return try channelAffine(
      x, scale: [Float](repeating: scale, count: c), shift: [Float](repeating: offset, count: c))
  }
}
