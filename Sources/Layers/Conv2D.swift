import Autograd
import Tensors

/// 2-D convolution (Keras `Conv2D`): kernel [kh, kw, in, filters], Glorot-uniform, bias zeros.
/// With `trainableKernel: false` the kernel is a non-trainable weight (set it with `setWeights`).
public final class Conv2D: ConfigurableLayer {
  public let filters: Int
  @Pair public private(set) var kernelSize: (Int, Int)
  @Pair public private(set) var strides: (Int, Int)
  public let padding: Padding
  public let useBias: Bool
  public let activation: Activation
  public let kernelInitializer: KernelInitializer
  public let trainableKernel: Bool
  public private(set) var kernel: Variable?
  public private(set) var bias: Variable?

  enum CodingKeys: String, CodingKey {
    case filters, kernelSize = "kernel_size", strides, padding, useBias = "use_bias", activation
    case kernelInitializer = "kernel_initializer", trainableKernel = "trainable_kernel"
  }

  public init(
    filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1),
    padding: Padding = .valid, useBias: Bool = true, activation: Activation = .linear,
    kernelInitializer: KernelInitializer = .glorotUniform, trainableKernel: Bool = true
  ) {
    self.kernelInitializer = kernelInitializer
    self.trainableKernel = trainableKernel
    self.filters = filters
    self.kernelSize = kernelSize
    self.strides = strides
    self.padding = padding
    self.useBias = useBias
    self.activation = activation
  }

  public static let typeName = "Conv2D"

  public var parameters: [Parameter] {
    [
      kernel.map { Parameter(name: "kernel", variable: $0, trainable: trainableKernel) },
      bias.map { Parameter(name: "bias", variable: $0) },
    ].compactMap { $0 }
  }

  public func outputShape(for s: [Int]) throws -> [Int] {
    guard filters > 0 else { throw LayerError("Conv2D: filters must be positive, got \(filters)") }
    let (h, w) = try windowOutputSize(s, "kernel", kernelSize, strides, padding, typeName)
    return [h, w, filters]
  }

  public func build(inputShape: [Int], rng: inout SeededRandom) throws {
    _ = try outputShape(for: inputShape)
    if let kernel {
      guard kernel.shape[2] == inputShape[2] else {
        throw LayerError("Conv2D was built for \(kernel.shape[2]) input channels, not \(inputShape[2])")
      }
      return
    }
    let initial = kernelInitializer.kernel([kernelSize.0, kernelSize.1, inputShape[2], filters], using: &rng)
    kernel = Variable(initial, requiresGrad: trainableKernel)
    if useBias { bias = Variable(Tensor(zeros: [filters]), requiresGrad: true) }
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    let kernel = try builtKernel(for: x)
    return try conv2d(x, kernel: kernel, bias: bias, strides: strides, padding: padding, activation: activation)
  }

  /// This layer and a following 2×2, stride-2, unpadded MaxPooling2D as one op
  /// (`conv2dMaxPool`) when the filters suit its SIMD path; nil for any other pooling.
  package func fused(_ x: Variable, then pool: MaxPooling2D) throws -> Variable? {
    guard pool.poolSize == (2, 2) && pool.strides == (2, 2) && pool.padding == .valid,
      canFuseMaxPool(filters: filters, activation: activation)
    else { return nil }
    let kernel = try builtKernel(for: x)
    return try conv2dMaxPool(x, kernel: kernel, bias: bias, strides: strides, padding: padding, activation: activation)
  }

  private func builtKernel(for x: Variable) throws -> Variable {
    guard let kernel else { throw LayerError("Conv2D is not built: build it for an input shape first") }
    try checkBatch(x, rank: 3, typeName)
    return kernel
  }
}
