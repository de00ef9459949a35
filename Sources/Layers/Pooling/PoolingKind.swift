import Tensors

/// The pooling kinds by the names the command line and checkpoints use: the one table that
/// turns a kind into its windowed and its global layer.
public enum PoolingKind: String, CaseIterable, Sendable {
  case max, average, min, mixed, lp
  case avgTopK = "avgtopk"

  /// What the kinds other than max and average take: k of avgtopk, p of lp, mixed's λ.
  public struct Settings: Sendable {
    public var k: Int
    public var p: Float
    public var mixing: Mixing

    public init(k: Int = 2, p: Float = 2, mixing: Mixing = .learned()) {
      self.k = k
      self.p = p
      self.mixing = mixing
    }
  }

  /// The windowed layer (strides default to the pool size, as in Keras).
  public func layer(
    poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid,
    _ settings: Settings = Settings()
  ) -> any Layer {
    switch self {
    case .max: return MaxPooling2D(poolSize: poolSize, strides: strides, padding: padding)
    case .average: return AveragePooling2D(poolSize: poolSize, strides: strides, padding: padding)
    case .min: return MinPooling2D(poolSize: poolSize, strides: strides, padding: padding)
    case .mixed: return MixedPooling2D(settings.mixing, poolSize: poolSize, strides: strides, padding: padding)
    case .lp: return LpPooling2D(p: settings.p, poolSize: poolSize, strides: strides, padding: padding)
    case .avgTopK: return AvgTopKPooling2D(k: settings.k, poolSize: poolSize, strides: strides, padding: padding)
    }
  }

  /// The global layer: the same pooling over each channel's whole image.
  public func globalLayer(_ settings: Settings = Settings()) -> any Layer {
    switch self {
    case .max: return GlobalMaxPooling2D()
    case .average: return GlobalAveragePooling2D()
    case .min: return GlobalMinPooling2D()
    case .mixed: return GlobalMixedPooling2D(settings.mixing)
    case .lp: return GlobalLpPooling2D(p: settings.p)
    case .avgTopK: return GlobalAvgTopKPooling2D(k: settings.k)
    }
  }
}
