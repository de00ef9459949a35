import Tensors

// 2-D convolution over NHWC as one differentiable op. Forward: im2col, one GEMM against the
// kernel [kh, kw, in, out], then bias and ReLU in one pass. Backward: the ReLU mask, then
// bias gradient (column sums), kernel gradient colᵀ·dZ, and input gradient dZ·kernelᵀ
// scattered back by col2im (skipped when the input needs no gradient, as for the first layer).

/// conv2d(x [N, H, W, C], kernel [kh, kw, C, F], bias [F]) -> [N, outH, outW, F]
public func conv2d(
  _ x: Variable, kernel: Variable, bias: Variable?, strides: (Int, Int) = (1, 1),
  padding: Padding = .valid, activation: Activation = .linear
) throws -> Variable {
  let ks = kernel.shape
  guard x.shape.count == 4 else { throw ShapeError("conv2d expects an NHWC input, got shape \(x.shape)") }
  guard ks.count == 4, ks[2] == x.shape[3] else {
    throw ShapeError("conv2d kernel of shape \(ks) does not match input channels in \(x.shape)")
  }
  let filters = ks[3]
  if let bias, bias.shape != [filters] {
    throw ShapeError("conv2d bias of shape \(bias.shape), expected [\(filters)]")
  }
  let g = try WindowGeometry(
    batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
    window: (ks[0], ks[1]), strides: strides, padding: padding)
  let rows = g.batch * g.outH * g.outW
  let k = ks[0] * ks[1] * ks[2]
  // A 1x1 kernel with stride 1 and no padding reads the input as it is.
  let direct = ks[0] == 1 && ks[1] == 1 && strides == (1, 1) && g.padTop == 0 && g.padLeft == 0
  let col: Tensor
  if direct {
    col = x.value
  } else {
    col = Tensor(uninitialized: [rows, k])
    im2col(x.value.data, g, col.data)
  }
  let y = Tensor(uninitialized: [g.batch, g.outH, g.outW, filters])
  gemm(
    m: rows, n: filters, k: k, a: col.data, lda: k, transA: false, b: kernel.value.data,
    ldb: filters, transB: false, c: y.data, ldc: filters, accumulate: false)
  biasActivationForward(y.data, rows: rows, n: filters, bias: bias?.value.data, relu: activation == .relu)

  var inputs = [x, kernel]
  if let bias { inputs.append(bias) }
  let out = makeOutput("conv2d", y, inputs: inputs) { dy in
    let dBias = bias == nil ? nil : Tensor(uninitialized: [filters])
    let dz = biasActivationBackward(y, dy, relu: activation == .relu, biasGrad: dBias, rows: rows, n: filters)
    let dKernel = Tensor(uninitialized: ks)
    gemm(
      m: k, n: filters, k: rows, a: col.data, lda: k, transA: true, b: dz.data, ldb: filters,
      transB: false, c: dKernel.data, ldc: filters, accumulate: false)
    var dx: Tensor?
    if x.requiresGrad {
      let dcol = direct ? Tensor(uninitialized: x.shape) : Tensor(uninitialized: [rows, k])
      gemm(
        m: rows, n: k, k: filters, a: dz.data, lda: filters, transA: false, b: kernel.value.data,
        ldb: filters, transB: true, c: dcol.data, ldc: k, accumulate: false)
      if direct {
        dx = dcol
      } else {
        let d = Tensor(zeros: x.shape)
        col2im(dcol.data, g, d.data)
        dx = d
      }
    }
    return bias == nil ? [dx, dKernel] : [dx, dKernel, dBias]
  }
  return activation == .softmax ? softmax(out) : out
}
