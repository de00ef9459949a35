import Tensors

// Fully connected layer as one differentiable op: y = act(x · W + b), with x [B, in],
// W [in, units] (Keras's kernel layout), b [units]. Backward: dW = xᵀ·dZ, db = column sums
// of dZ, dx = dZ·Wᵀ; dW and db shard by shard, the shards' added as a tree (`BatchShards`).

public func dense(
  _ x: Variable, kernel: Variable, bias: Variable?, activation: Activation = .linear
) throws -> Variable {
  guard x.shape.count == 2, kernel.shape.count == 2, kernel.shape[0] == x.shape[1] else {
    throw TensorError("dense: input of shape \(x.shape) does not fit a kernel of shape \(kernel.shape)")
  }
  let rows = x.shape[0]
  let inputs = x.shape[1]
  let units = kernel.shape[1]
  if let bias, bias.shape != [units] {
    throw TensorError("dense bias of shape \(bias.shape), expected [\(units)]")
  }
  let y = Tensor(uninitialized: [rows, units])
  gemm(
    m: rows, n: units, k: inputs, a: x.value.data, lda: inputs, transA: false,
    b: kernel.value.data, ldb: units, transB: false, c: y.data, ldc: units, accumulate: false)
  biasActivationForward(y.data, rows: rows, n: units, bias: bias?.value.data, relu: activation == .relu)

  var ins = [x, kernel]
  if let bias { ins.append(bias) }
  let shards = try BatchShards.of(x).ranges
  let out = makeOutput("dense", y, inputs: ins) { dy in
    let kernelParts = TensorStorage(count: shards.count * inputs * units, zeroed: false)
    let biasParts = TensorStorage(count: bias == nil ? 0 : shards.count * units, zeroed: false)
    defer { withExtendedLifetime((kernelParts, biasParts)) {} }
    let dz = biasActivationBackward(
      y, dy, relu: activation == .relu, biasSums: bias == nil ? nil : biasParts.pointer, shards: shards, n: units)
    for (s, shard) in shards.enumerated() {
      let part = kernelParts.pointer + s * inputs * units
      if shard.isEmpty { part.update(repeating: 0, count: inputs * units) }
      gemm(
        m: inputs, n: units, k: shard.count, a: x.value.data + shard.lowerBound * inputs, lda: inputs, transA: true,
        b: dz.data + shard.lowerBound * units, ldb: units, transB: false, c: part, ldc: units, accumulate: false)
    }
    treeSumInPlace(kernelParts.pointer, rows: shards.count, n: inputs * units)
    let dKernel = Tensor(uninitialized: kernel.shape)
    dKernel.data.update(from: kernelParts.pointer, count: inputs * units)
    var dBias: Tensor?
    if bias != nil {
      treeSumInPlace(biasParts.pointer, rows: shards.count, n: units)
      let d = Tensor(uninitialized: [units])
      d.data.update(from: biasParts.pointer, count: units)
      dBias = d
    }
    var dx: Tensor?
    if x.requiresGrad {
      let d = Tensor(uninitialized: x.shape)
      gemm(
        m: rows, n: inputs, k: units, a: dz.data, lda: units, transA: false,
        b: kernel.value.data, ldb: units, transB: true, c: d.data, ldc: inputs, accumulate: false)
      dx = d
    }
    return bias == nil ? [dx, dKernel] : [dx, dKernel, dBias]
  }
  return applyUnfused(activation, out)
}
