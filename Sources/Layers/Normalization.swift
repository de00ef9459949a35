import Autograd
import Tensors

/// Input normalisation (Keras `Normalization` with a given mean and variance): y = (x − mean)
/// / √variance per channel (the last axis), the root floored at 1e-7 as Keras does. The mean
/// and variance are non-trainable weights, kept in checkpoints.
public final class Normalization: ConfigurableLayer {
  public let mean: [Float]
  public let variance: [Float]
  private var meanWeight: Variable?
  private var varianceWeight: Variable?

  enum CodingKeys: CodingKey {
    case mean, variance
  }

  public init(mean: [Float], variance: [Float]) {
    self.mean = mean
    self.variance = variance
  }

  /// From a standard deviation per channel: CIFAR-10's is mean (0.4914, 0.4822, 0.4465),
  /// standard deviation (0.2470, 0.2435, 0.2616) for pixels scaled to [0, 1].
  public convenience init(mean: [Float], standardDeviation: [Float]) {
    self.init(mean: mean, variance: standardDeviation.map { $0 * $0 })
  }

  public static let typeName = "Normalization"

  public var parameters: [Parameter] {
    guard let meanWeight, let varianceWeight else { return [] }
    return [
      Parameter(name: "mean", variable: meanWeight, trainable: false),
      Parameter(name: "variance", variable: varianceWeight, trainable: false),
    ]
  }

  public func outputShape(for s: [Int]) throws -> [Int] {
    guard let c = s.last, s.allSatisfy({ $0 > 0 }) else { throw LayerError("\(typeName): bad input shape \(s)") }
    guard mean.count == c, variance.count == c else {
      throw LayerError("\(typeName) has \(mean.count) means and \(variance.count) variances for \(c) channels")
    }
    guard (mean + variance).allSatisfy({ $0.isFinite }), variance.allSatisfy({ $0 >= 0 }) else {
      throw LayerError("\(typeName): means must be finite and variances finite and not negative")
    }
    return s
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    meanWeight = Variable(try Tensor(shape: [mean.count], values: mean))
    varianceWeight = Variable(try Tensor(shape: [variance.count], values: variance))
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    let m = meanWeight?.value.scalars ?? mean
    let v = varianceWeight?.value.scalars ?? variance
    let scale = v.map { 1 / Swift.max($0.squareRoot(), 1e-7) }
    return try channelAffine(x, scale: scale, shift: zip(m, scale).map { -$0 * $1 })
  }
}
