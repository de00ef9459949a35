import Autograd
import Tensors

/// Dropout (Keras `Dropout`): in training, each value is zeroed with probability `rate` and the
/// rest scaled by 1/(1 − rate); in inference, the identity. The draws follow the model's seed
/// and the data, so a run is reproducible and resumes exactly.
public final class Dropout: ConfigurableLayer {
  public let rate: Float
  private var seed: UInt64 = 0

  enum CodingKeys: CodingKey {
    case rate
  }

  public init(rate: Float) { self.rate = rate }
  public static let typeName = "Dropout"

  public func outputShape(for s: [Int]) throws -> [Int] {
    guard rate >= 0, rate < 1 else { throw LayerError("Dropout: rate must lie in [0, 1), got \(rate)") }
    return s
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    seed = rng.next()
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    x.tape?.training == true ? try dropout(x, rate: rate, seed: seed) : x
  }
}
