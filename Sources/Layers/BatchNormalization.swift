import Autograd
import Tensors

/// Batch normalisation over the channels (Keras `BatchNormalization`, axis −1): in training
/// (on a training tape) each channel is normalised by the batch's mean and variance, and the
/// moving statistics follow them, moving = momentum · moving + (1 − momentum) · batch; in
/// inference the moving statistics are used. γ (`scale`) and β (`center`) are trainable;
/// `moving_mean` and `moving_variance` are not, but are checkpointed with them. With
/// `scale: false` only the offset trains (a frozen scale of 1).
public final class BatchNormalization: ConfigurableLayer {
  public let axis: Int
  public let momentum: Float
  public let epsilon: Float
  public let center: Bool
  public let scale: Bool
  private var gamma: Variable?
  private var beta: Variable?
  private var movingMean: Variable?
  private var movingVariance: Variable?

  enum CodingKeys: CodingKey {
    case axis, momentum, epsilon, center, scale
  }

  public init(axis: Int = -1, momentum: Float = 0.99, epsilon: Float = 0.001, center: Bool = true, scale: Bool = true) {
    self.axis = axis
    self.momentum = momentum
    self.epsilon = epsilon
    self.center = center
    self.scale = scale
  }

  public static let typeName = "BatchNormalization"

  public var parameters: [Parameter] {
    var out: [Parameter] = []
    if let gamma { out.append(Parameter(name: "gamma", variable: gamma)) }
    if let beta { out.append(Parameter(name: "beta", variable: beta)) }
    if let movingMean { out.append(Parameter(name: "moving_mean", variable: movingMean, trainable: false)) }
    if let movingVariance {
      out.append(Parameter(name: "moving_variance", variable: movingVariance, trainable: false))
    }
    return out
  }

  public func outputShape(for s: [Int]) throws -> [Int] {
    guard !s.isEmpty, s.allSatisfy({ $0 > 0 }) else { throw LayerError("\(typeName): bad input shape \(s)") }
    guard axis == -1 || axis == s.count else {
      throw LayerError("\(typeName): only the last axis (-1, the channels) is supported, got axis \(axis)")
    }
    guard (0...1).contains(momentum) else {
      throw LayerError("\(typeName): momentum must lie in [0, 1], got \(momentum)")
    }
    guard epsilon > 0, epsilon.isFinite else {
      throw LayerError("\(typeName): epsilon must be above 0, got \(epsilon)")
    }
    return s
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    let c = inputShape.last!
    gamma = scale ? Variable(Tensor(shape: [c], repeating: 1), requiresGrad: true) : nil
    beta = center ? Variable(Tensor(zeros: [c]), requiresGrad: true) : nil
    movingMean = Variable(Tensor(zeros: [c]))
    movingVariance = Variable(Tensor(shape: [c], repeating: 1))
  }

  public func callAsFunction(_ x: Variable) throws -> Variable { try normalize(x, by: batchNormalization) }

  /// This layer then GELU as one op (`batchNormalizationGELU`): the same values and gradients.
  package func fused(_ x: Variable, then _: GELU) throws -> Variable { try normalize(x, by: batchNormalizationGELU) }

  /// `op` (`batchNormalization` or a fusion of it) with this layer's parameters: in training
  /// on the batch's statistics, which the moving ones then follow, else on the moving ones.
  private func normalize(
    _ x: Variable,
    by op: (Variable, Variable?, Variable?, Float, BatchStatistics?, ((BatchStatistics) -> Void)?) throws -> Variable
  ) throws -> Variable {
    guard let movingMean, let movingVariance else {
      throw LayerError("\(typeName) is not built: use it in a Sequential model or call build")
    }
    guard x.shape.last == movingMean.value.count else {
      throw LayerError("\(typeName) was built for \(movingMean.value.count) channels, got input \(x.shape)")
    }
    if x.tape?.training == true {
      let m = momentum
      return try op(x, gamma, beta, epsilon, nil) { batch in
        for j in 0..<batch.mean.count {
          movingMean.value[j] = m * movingMean.value[j] + (1 - m) * batch.mean[j]
          movingVariance.value[j] = m * movingVariance.value[j] + (1 - m) * batch.variance[j]
        }
      }
    }
    let moving = BatchStatistics(mean: movingMean.value.scalars, variance: movingVariance.value.scalars)
    return try op(x, gamma, beta, epsilon, moving, nil)
  }
}
