import Autograd
import Tensors

/// Layer normalisation (Keras `LayerNormalization`, axis −1): each position's values over the
/// last axis are normalised by their own mean and variance, y = (x − μ) / √(σ² + ε) · γ + β,
/// alike in training and inference. γ (`scale`) and β (`center`) are trainable, one per channel.
public final class LayerNormalization: ConfigurableLayer {
  public static let typeName = "LayerNormalization"
  public let epsilon: Float
  public let center: Bool
  public let scale: Bool
  private var gamma: Variable?
  private var beta: Variable?

  enum CodingKeys: CodingKey {
    case epsilon, center, scale
  }

  public init(epsilon: Float = 0.001, center: Bool = true, scale: Bool = true) {
    self.epsilon = epsilon
    self.center = center
    self.scale = scale
  }

  public var parameters: [Parameter] {
    [gamma.map { Parameter(name: "gamma", variable: $0) }, beta.map { Parameter(name: "beta", variable: $0) }]
      .compactMap { $0 }
  }

  public func outputShape(for s: [Int]) throws -> [Int] {
    guard !s.isEmpty, s.allSatisfy({ $0 > 0 }) else { throw LayerError("\(typeName): bad input shape \(s)") }
    guard epsilon > 0, epsilon.isFinite else {
      throw LayerError("\(typeName): epsilon must be above 0, got \(epsilon)")
    }
    return s
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    let c = try outputShape(for: inputShape).last ?? 1
    gamma = scale ? Variable(Tensor(shape: [c], repeating: 1), requiresGrad: true) : nil
    beta = center ? Variable(Tensor(zeros: [c]), requiresGrad: true) : nil
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    let c = x.shape.last ?? 0
    if let width = (gamma ?? beta)?.shape[0], width != c {
      throw LayerError("\(typeName) was built for \(width) channels, got input \(x.shape)")
    }
    let rows = x.value.count / Swift.max(c, 1)
    let (normalized, inverse) = normalize(x.value, rows: rows, channels: c)
    // γ and β as plain per-channel arrays (1 and 0 when left out), read once.
    let scale = gamma?.value.scalars ?? [Float](repeating: 1, count: c)
    let shift = beta?.value.scalars ?? [Float](repeating: 0, count: c)
    let y = Tensor(uninitialized: x.shape)
    let (yp, np) = (y.data, normalized.data)
    for r in 0..<rows {
      for j in 0..<c { yp[r * c + j] = np[r * c + j] * scale[j] + shift[j] }
    }
    let weights = [gamma, beta].compactMap { $0 }
    return makeOutput("layer_normalization", y, inputs: [x] + weights) { [gamma, beta] dy in
      let dx = Tensor(uninitialized: x.shape)
      let (dGamma, dBeta) = (Tensor(zeros: [c]), Tensor(zeros: [c]))
      let (dyp, np, dxp, dgp, dbp) = (dy.data, normalized.data, dx.data, dGamma.data, dBeta.data)
      for r in 0..<rows {
        // dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) / σ, with ĝ = dy · γ.
        var (meanG, meanGX) = (Float(0), Float(0))
        for j in 0..<c {
          let i = r * c + j
          let g = dyp[i] * scale[j]
          meanG += g
          meanGX += g * np[i]
          dgp[j] += dyp[i] * np[i]
          dbp[j] += dyp[i]
        }
        (meanG, meanGX) = (meanG / Float(c), meanGX / Float(c))
        for j in 0..<c {
          let i = r * c + j
          dxp[i] = (dyp[i] * scale[j] - meanG - np[i] * meanGX) * inverse[r]
        }
      }
      return [dx] + (gamma == nil ? [] : [dGamma]) + (beta == nil ? [] : [dBeta])
    }
  }

  /// x̂ = (x − μ) / √(σ² + ε) over each row of `channels` values, and each row's 1 / √(σ² + ε).
  private func normalize(_ x: Tensor, rows: Int, channels c: Int) -> (Tensor, [Float]) {
    let out = Tensor(uninitialized: x.shape)
    var inverse = [Float](repeating: 0, count: rows)
    for r in 0..<rows {
      var mean = Float(0)
      for j in 0..<c { mean += x.data[r * c + j] }
      mean /= Float(c)
      var variance = Float(0)
      for j in 0..<c { variance += (x.data[r * c + j] - mean) * (x.data[r * c + j] - mean) }
      inverse[r] = 1 / (variance / Float(c) + epsilon).squareRoot()
      for j in 0..<c { out.data[r * c + j] = (x.data[r * c + j] - mean) * inverse[r] }
    }
    return (out, inverse)
  }
}
