import Autograd
import Tensors

/// How a kernel (of a convolution or a dense layer) starts.
public enum KernelInitializer: String, Sendable, CaseIterable {
  /// Keras's default: uniform in ±√(6 / (fanIn + fanOut)).
  case glorotUniform = "glorot_uniform"
  /// PyTorch's default for `Conv2d` and `Linear`: uniform in ±1/√fanIn.
  case fanInUniform = "fan_in_uniform"
  /// Convolutions only: the first min(in, filters) filters pass their input channel through
  /// (a 1 at the kernel's centre), the others uniform in ±1/√fanIn, as PyTorch's `dirac_` on a
  /// default-initialised `Conv2d`: the fast recipe's start.
  case dirac
}

extension KernelInitializer {
  /// A kernel of `shape` ([kh, kw, in, out] or [in, out]) drawn from `rng`.
  func kernel(_ shape: [Int], using rng: inout SeededRandom) -> Tensor {
    let (fanIn, fanOut) = Tensor.fans(ofKernel: shape)
    switch self {
    case .glorotUniform: return Tensor.glorotUniform(shape: shape, fanIn: fanIn, fanOut: fanOut, using: &rng)
    case .fanInUniform: return Tensor.fanInUniform(shape: shape, fanIn: fanIn, using: &rng)
    case .dirac:
      let t = Tensor.fanInUniform(shape: shape, fanIn: fanIn, using: &rng)
      guard shape.count == 4 else { return t }
      let (kh, kw, cin, filters) = (shape[0], shape[1], shape[2], shape[3])
      for o in 0..<Swift.min(cin, filters) {
        for i in 0..<(kh * kw * cin) { t[i * filters + o] = 0 }
        t[(((kh / 2) * kw + kw / 2) * cin + o) * filters + o] = 1
      }
      return t
    }
  }
}

/// 2-D convolution (Keras `Conv2D`): kernel [kh, kw, in, filters], Glorot-uniform, bias zeros.
/// With `trainableKernel: false` the kernel is a non-trainable weight (set it with `setWeights`).
public final class Conv2D: Layer {
  public let filters: Int
  public let kernelSize: (Int, Int)
  public let strides: (Int, Int)
  public let padding: Padding
  public let useBias: Bool
  public let activation: Activation
  public let kernelInitializer: KernelInitializer
  public let trainableKernel: Bool
  public private(set) var kernel: Variable?
  public private(set) var bias: Variable?

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

  public var typeName: String { "Conv2D" }

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
