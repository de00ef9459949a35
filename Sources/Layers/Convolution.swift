/// 2-D convolution (Keras `Conv2D`): kernel [kh, kw, in, filters], Glorot-uniform, bias zeros.
public final class Conv2D: Layer {
  public let filters: Int
  public let kernelSize: (Int, Int)
  public let strides: (Int, Int)
  public let padding: Padding
  public let useBias: Bool
  public let activation: Activation
  public private(set) var kernel: Variable?
  public private(set) var bias: Variable?

  public init(
    filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1),
    padding: Padding = .valid, useBias: Bool = true, activation: Activation = .linear
  ) {
    self.filters = filters
    self.kernelSize = kernelSize
    self.strides = strides
    self.padding = padding
    self.useBias = useBias
    self.activation = activation
  }

  public var typeName: String { "Conv2D" }

  public var parameters: [Parameter] { kernelAndBias(kernel, bias) }

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
    let shape = [kernelSize.0, kernelSize.1, inputShape[2], filters]
    let (fanIn, fanOut) = Tensor.fans(ofKernel: shape)
    kernel = Variable(
      Tensor.glorotUniform(shape: shape, fanIn: fanIn, fanOut: fanOut, using: &rng), requiresGrad: true)
    if useBias { bias = Variable(Tensor(zeros: [filters]), requiresGrad: true) }
  }

  public func callAsFunction(_ x: Variable) throws -> Variable {
    let kernel = try builtKernel(for: x)
    return try conv2d(x, kernel: kernel, bias: bias, strides: strides, padding: padding, activation: activation)
  }

  /// This layer and a following 2×2, stride-2, unpadded MaxPooling2D as one op
  /// (`conv2dMaxPool`) when the filters suit its SIMD path; nil for any other pair.
  public func callAsFunction(_ x: Variable, then next: any Layer) throws -> Variable? {
    guard let pool = next as? MaxPooling2D,
      pool.poolSize == (2, 2) && pool.strides == (2, 2) && pool.padding == .valid,
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
