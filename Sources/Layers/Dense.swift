import Autograd
import Tensors

/// Fully connected layer (Keras `Dense`): kernel [in, units], Glorot-uniform, bias zeros.
public final class Dense: ConfigurableLayer {
  public let units: Int
  public let useBias: Bool
  public let activation: Activation
  /// `.glorotUniform` (Keras's default) or `.fanInUniform` (PyTorch's).
  public let kernelInitializer: KernelInitializer
  public private(set) var kernel: Variable?
  public private(set) var bias: Variable?

  enum CodingKeys: String, CodingKey {
    case units, activation, useBias = "use_bias", kernelInitializer = "kernel_initializer"
  }

  public init(
    units: Int, activation: Activation = .linear, useBias: Bool = true,
    kernelInitializer: KernelInitializer = .glorotUniform
  ) {
    self.kernelInitializer = kernelInitializer
    self.units = units
    self.activation = activation
    self.useBias = useBias
  }

  public static let typeName = "Dense"

  /// Configs saved before the initializer was recorded used Keras's default.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    units = try c.decode(Int.self, forKey: .units)
    activation = try c.decode(Activation.self, forKey: .activation)
    useBias = try c.decode(Bool.self, forKey: .useBias)
    kernelInitializer = try c.decodeIfPresent(KernelInitializer.self, forKey: .kernelInitializer) ?? .glorotUniform
  }

  public var parameters: [Parameter] { kernelAndBias(kernel, bias) }

  public func outputShape(for s: [Int]) throws -> [Int] {
    guard units > 0 else { throw LayerError("Dense: units must be positive, got \(units)") }
    guard s.count == 1, s[0] > 0 else {
      throw LayerError("Dense expects a flat input (features), got \(s); add a Flatten layer before it")
    }
    if let kernel, kernel.shape[0] != s[0] {
      throw LayerError("Dense expects \(kernel.shape[0]) input features, got \(s[0])")
    }
    return [units]
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    if kernel != nil { return }
    guard kernelInitializer != .dirac else { throw LayerError("Dense: the dirac initializer is for convolutions") }
    kernel = Variable(kernelInitializer.kernel([inputShape[0], units], using: &rng), requiresGrad: true)
    if useBias { bias = Variable(Tensor(zeros: [units]), requiresGrad: true) }
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    guard let kernel else { throw LayerError("Dense is not built: build it for an input shape first") }
    try checkBatch(x, rank: 1, typeName)
    return try dense(x, kernel: kernel, bias: bias, activation: activation)
  }
}
