import Autograd
import Tensors

/// How a mixed pooling weighs max against average: λ · max + (1 − λ) · average.
/// Saved flat among its layer's options: "mixing" ("learned", "random" or "fixed"), with
/// "per_channel" and "initial", or "lambda".
public enum Mixing: Sendable, Codable {
  /// λ is a trainable parameter, one for the layer or one per channel, starting at `initial`
  /// and clamped to [0, 1] (Lee et al. 2016). The default: it is deterministic, costs one
  /// parameter, trains and infers alike, and can settle on max (λ = 1) or average (λ = 0).
  case learned(perChannel: Bool = false, initial: Float = 0.5)
  /// λ is 0 or 1 at random per window and channel in training, and its expectation 0.5 in
  /// inference (Yu et al. 2014).
  case random
  /// A constant λ.
  case fixed(Float)
}

extension Mixing {
  private enum Keys: String, CodingKey {
    case mixing, perChannel = "per_channel", initial, lambda
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    switch try c.decode(String.self, forKey: .mixing) {
    case "learned":
      self = .learned(
        perChannel: try c.decode(Bool.self, forKey: .perChannel), initial: try c.decode(Float.self, forKey: .initial))
    case "random": self = .random
    case "fixed": self = .fixed(try c.decode(Float.self, forKey: .lambda))
    case let other:
      throw DecodingError.dataCorruptedError(forKey: .mixing, in: c, debugDescription: "unknown mixing '\(other)'")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    switch self {
    case .learned(let perChannel, let initial):
      try c.encode("learned", forKey: .mixing)
      try c.encode(perChannel, forKey: .perChannel)
      try c.encode(initial, forKey: .initial)
    case .random: try c.encode("random", forKey: .mixing)
    case .fixed(let lambda):
      try c.encode("fixed", forKey: .mixing)
      try c.encode(lambda, forKey: .lambda)
    }
  }
}

func checkMixing(_ mixing: Mixing, _ layer: String) throws {
  switch mixing {
  case .learned(_, let l), .fixed(let l):
    guard (0...1).contains(l) else { throw LayerError("\(layer): lambda must lie in [0, 1], got \(l)") }
  case .random: break
  }
}

/// The trainable λ of a learned mixing (nil otherwise); a random mixing draws its seed.
func makeMixing(_ mixing: Mixing, channels: Int, seed: inout UInt64, rng: inout SeededRandom) throws
  -> Variable?
{
  switch mixing {
  case .learned(let perChannel, let initial):
    return Variable(Tensor(shape: [perChannel ? channels : 1], repeating: initial), requiresGrad: true)
  case .random:
    seed = rng.next()
    return nil
  case .fixed: return nil
  }
}

/// λ for one call: the learned variable, the constant, or random draws in training and their
/// expectation (0.5) in inference.
func mixingWeight(_ mixing: Mixing, _ lambda: Variable?, seed: UInt64, _ x: Variable, _ layer: String) throws
  -> MixingWeight
{
  switch mixing {
  case .learned:
    guard let lambda else { throw LayerError("\(layer) is not built: use it in a Sequential model or call build") }
    return .variable(lambda)
  case .fixed(let l): return .variable(Variable(Tensor(shape: [1], repeating: l)))
  case .random:
    return x.tape?.training == true ? .random(seed: seed) : .variable(Variable(Tensor(shape: [1], repeating: 0.5)))
  }
}
