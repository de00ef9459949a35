import Autograd
import Datasets
import Layers
import Optimizers
import Tensors

/// Ready-made models, by name, for the command line.
public enum Zoo {
  public static let names = ["seed", "tiny", "fast93", "fast94"]

  /// `seed`: the tutorials' CIFAR-10 CNN (167,562 parameters): Conv2D 32 → MaxPooling2D →
  /// Conv2D 64 → MaxPooling2D → Flatten → Dense 64 → Dense 10 with softmax, trained with
  /// sparse cross-entropy on the probabilities, as the Keras original.
  /// `tiny`: a small CNN for quick tests.
  /// `fast93`, `fast94`: the fast CIFAR-10 recipe's network (airbench's), widths 64/128/128 and
  /// 64/256/256: normalisation, a frozen 2×2 whitening convolution with GELU (its kernel set
  /// from the data by `Whitening`), three blocks of conv → max pool → batch norm → GELU →
  /// conv → batch norm → GELU, max pool 3, a dense layer without bias, logits × 1/9.
  /// `pooling` replaces the max pooling layers of `seed` and `tiny` (`cnn train --pooling`).
  public static func model(
    _ name: String, inputShape: [Int] = [32, 32, 3], classes: Int = 10, seed: UInt64 = 0,
    pooling: PoolingChoice = .max
  ) throws -> Sequential {
    switch name {
    case "seed":
      return try Sequential(inputShape: inputShape, seed: seed) {
        Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu)
        pooling.layer()
        Conv2D(filters: 64, kernelSize: (3, 3), activation: .relu)
        pooling.layer()
        Flatten()
        Dense(units: 64, activation: .relu)
        Dense(units: classes, activation: .softmax)
      }
    case "tiny":
      return try Sequential(inputShape: inputShape, seed: seed) {
        Conv2D(filters: 8, kernelSize: (3, 3), strides: (2, 2), activation: .relu)
        pooling.layer()
        Flatten()
        Dense(units: classes, activation: .softmax)
      }
    case "fast93", "fast94":
      return try fastNetwork(
        widths: name == "fast93" ? [64, 128, 128] : [64, 256, 256], inputShape: inputShape, classes: classes,
        seed: seed)
    default:
      throw ModelError("unknown model '\(name)'; choose one of: \(names.joined(separator: ", "))")
    }
  }
}

/// CIFAR-10's channel means and standard deviations, for pixels in [0, 1].
public let cifar10Mean: [Float] = [0.4914, 0.4822, 0.4465]
public let cifar10StandardDeviation: [Float] = [0.2470, 0.2435, 0.2616]

extension Zoo {
  /// The fast recipe's network (see `model`) for any widths of its three blocks; without
  /// `whitening`, the normalised images go straight to the first block.
  public static func fastNetwork(
    widths: [Int], whitening: Bool = true, inputShape: [Int] = [32, 32, 3], classes: Int = 10, seed: UInt64 = 0
  ) throws -> Sequential {
    func block(_ width: Int) -> [any Layer] {
      [
        Conv2D(filters: width, kernelSize: (3, 3), padding: .same, useBias: false, kernelInitializer: .dirac),
        MaxPooling2D(poolSize: (2, 2)),
        BatchNormalization(momentum: 0.6, epsilon: 1e-12, scale: false),
        GELU(),
        Conv2D(filters: width, kernelSize: (3, 3), padding: .same, useBias: false, kernelInitializer: .dirac),
        BatchNormalization(momentum: 0.6, epsilon: 1e-12, scale: false),
        GELU(),
      ]
    }
    let stem: [any Layer] =
      [Normalization(mean: cifar10Mean, standardDeviation: cifar10StandardDeviation)]
      + (whitening ? [Conv2D(filters: 24, kernelSize: (2, 2), activation: .gelu, trainableKernel: false)] : [])
    let head: [any Layer] = [
      MaxPooling2D(poolSize: (3, 3)), Flatten(),
      Dense(units: classes, useBias: false, kernelInitializer: .fanInUniform), Rescaling(scale: 1.0 / 9),
    ]
    return try Sequential(inputShape: inputShape, layers: stem + widths.flatMap(block) + head, seed: seed)
  }
}

/// The pooling layers of a zoo model: 2×2 windows with stride 2, of any kind the framework has.
public enum PoolingChoice: Equatable, Sendable, CustomStringConvertible {
  case max, average, min
  /// Mixed max-average pooling with a learned λ.
  case mixed
  case lp(p: Float)
  case avgTopK(k: Int)

  public static let names = PoolingKind.allCases.map(\.rawValue)

  /// The choice named `name` (one of `names`), with k for avgtopk and p for lp.
  public init?(name: String, k: Int = 2, p: Float = 2) {
    guard let kind = PoolingKind(rawValue: name) else { return nil }
    switch kind {
    case .max: self = .max
    case .average: self = .average
    case .min: self = .min
    case .mixed: self = .mixed
    case .lp: self = .lp(p: p)
    case .avgTopK: self = .avgTopK(k: k)
    }
  }

  /// Its kind and settings in the pooling table.
  public var kind: (PoolingKind, PoolingKind.Settings) {
    switch self {
    case .max: return (.max, .init())
    case .average: return (.average, .init())
    case .min: return (.min, .init())
    case .mixed: return (.mixed, .init())
    case .lp(let p): return (.lp, .init(p: p))
    case .avgTopK(let k): return (.avgTopK, .init(k: k))
    }
  }

  /// A new 2×2 pooling layer of this kind.
  public func layer() -> any Layer {
    kind.0.layer(kind.1)
  }

  /// "max", "lp(p=3)", "avgtopk(k=2)": how checkpoints record it.
  public var description: String {
    switch self {
    case .max: return "max"
    case .average: return "average"
    case .min: return "min"
    case .mixed: return "mixed"
    case .lp(let p): return "lp(p=\(p))"
    case .avgTopK(let k): return "avgtopk(k=\(k))"
    }
  }

  /// The choice a checkpoint's "pooling" metadata names (see `description`).
  public init?(recorded text: String) {
    if let c = PoolingChoice(name: text) {
      self = c
    } else if text.hasPrefix("lp(p="), text.hasSuffix(")"), let p = Float(text.dropFirst(5).dropLast()) {
      self = .lp(p: p)
    } else if text.hasPrefix("avgtopk(k="), text.hasSuffix(")"), let k = Int(text.dropFirst(10).dropLast()) {
      self = .avgTopK(k: k)
    } else {
      return nil
    }
  }
}
