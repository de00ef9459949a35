import Tensors

// 2-D convolution over NHWC as one differentiable op, worked in chunks of a few images: each
// chunk's im2col matrix stays in one core's cache from im2col through its GEMMs, and chunks
// run in parallel (each GEMM on the calling thread). Forward: im2col, one GEMM against the
// kernel [kh, kw, in, out], then bias and ReLU while the rows are still in cache (with a
// pooling after it, applied as the pooling reads the rows). Backward,
// chunk by chunk: the ReLU mask, bias column sums, im2col again (cheaper than keeping the
// matrix from the forward pass), the chunk's kernel gradient colᵀ·dZ, and the input gradient
// dZ·kernelᵀ scattered back by col2im (skipped when the input needs no gradient, as for the
// first layer). Per-chunk gradients are added in chunk order within a shard of the batch and
// the shards' as a tree (`BatchShards`), so results never depend on the thread or process
// count. `conv2dMaxPool` also pools each chunk while it is in cache.

/// conv2d(x [N, H, W, C], kernel [kh, kw, C, F], bias [F]) -> [N, outH, outW, F]
public func conv2d(
  _ x: Variable, kernel: Variable, bias: Variable?, strides: (Int, Int) = (1, 1),
  padding: Padding = .valid, activation: Activation = .linear
) throws -> Variable {
  try convolution(x, kernel, bias, strides, padding, activation, poolAfter: false, algorithm: nil)
}

/// `conv2d` by the given algorithm (nil: by `ConvolutionAlgorithm.choose`), for tests and benchmarks.
package func conv2d(
  _ x: Variable, kernel: Variable, bias: Variable?, strides: (Int, Int) = (1, 1),
  padding: Padding = .valid, activation: Activation = .linear, algorithm: ConvolutionAlgorithm?
) throws -> Variable {
  try convolution(x, kernel, bias, strides, padding, activation, poolAfter: false, algorithm: algorithm)
}

/// Whether `conv2dMaxPool` can take a convolution with this many filters and activation:
/// channels in multiples of 8 for the SIMD pooling, and no activation between the two but
/// ReLU (which commutes with the maximum).
package func canFuseMaxPool(filters: Int, activation: Activation) -> Bool {
  filters % 8 == 0 && (activation == .linear || activation == .relu)
}

/// maxPool2d(conv2d(...), pool 2×2, strides 2×2, valid) in one op, with the same results: each
/// chunk of images pools its convolution rows while they are in cache, and the backward pass
/// goes from the pooled gradient straight to the convolution's (through the ReLU mask), with
/// no full-size gradient in between. Requires `canFuseMaxPool`.
package func conv2dMaxPool(
  _ x: Variable, kernel: Variable, bias: Variable?, strides: (Int, Int) = (1, 1),
  padding: Padding = .valid, activation: Activation = .linear, algorithm: ConvolutionAlgorithm? = nil
) throws -> Variable {
  guard kernel.shape.count == 4, canFuseMaxPool(filters: kernel.shape[3], activation: activation) else {
    throw TensorError(
      "conv2dMaxPool needs filters in multiples of 8 and a linear or ReLU activation, got kernel \(kernel.shape) and \(activation)"
    )
  }
  return try convolution(x, kernel, bias, strides, padding, activation, poolAfter: true, algorithm: algorithm)
}

private func convolution(
  _ x: Variable, _ kernel: Variable, _ bias: Variable?, _ strides: (Int, Int), _ padding: Padding,
  _ activation: Activation, poolAfter: Bool, algorithm: ConvolutionAlgorithm?
) throws -> Variable {
  let c = try ConvolutionPlan(x, kernel, bias, strides, padding, activation, poolAfter: poolAfter, algorithm: algorithm)
  var inputs = [x, kernel]
  if let bias { inputs.append(bias) }
  // With pooling after it, the convolution's rows live only in the chunk's scratch: the
  // backward pass needs just the pooled values and which cell of each window won.
  let y = Tensor(uninitialized: c.outputShape)
  let winners = c.pool != nil && willRecord(inputs) ? TensorStorage(count: y.count, zeroed: false) : nil
  let transformedKernel = c.winograd?.transformedKernel(kernel.value.data)
  c.forward(x.value.data, kernel.value.data, bias?.value.data, transformedKernel, into: y.data, winners: winners)
  let out = makeOutput(poolAfter ? "conv2d_max_pooling2d" : "conv2d", y, inputs: inputs) { dy in
    c.backward(dy, x: x, kernel: kernel, bias: bias, y: y, winners: winners, transformedKernel: transformedKernel)
  }
  return applyUnfused(activation, out)
}

/// How a convolution's batch is cut and computed, decided once for its forward pass and
/// reused by its backward pass.
private struct ConvolutionPlan {
  let g: WindowGeometry
  let ks: [Int]
  let filters: Int
  /// Floats per im2col row, and the rows of one image.
  let k: Int
  let rowsPerImage: Int
  let imageSize: Int
  /// A 1x1 kernel with stride 1 and no padding reads the input as it is.
  let direct: Bool
  /// Floats per im2col row as stored: k, or more for rows padded to whole vectors.
  let colStride: Int
  let winograd: WinogradConvolution?
  let plan: ChunkPlan
  let relu: Bool
  /// The pooling after it, if any: over the convolution's output, per image.
  let pool: WindowGeometry?
  /// A kernel's floats, and a group's partial sum (in Winograd's domain for Winograd).
  let partSize: Int
  let groupPartSize: Int
  /// With one group a shard, a group sums straight into its shard's kernel (through a scratch
  /// buffer and the adjoint transform for Winograd); with more, into partial sums added after.
  let oneGroupPerShard: Bool

  init(
    _ x: Variable, _ kernel: Variable, _ bias: Variable?, _ strides: (Int, Int), _ padding: Padding,
    _ activation: Activation, poolAfter: Bool, algorithm: ConvolutionAlgorithm?
  ) throws {
    ks = kernel.shape
    guard x.shape.count == 4 else { throw TensorError("conv2d expects an NHWC input, got shape \(x.shape)") }
    guard ks.count == 4, ks[2] == x.shape[3] else {
      throw TensorError("conv2d kernel of shape \(ks) does not match input channels in \(x.shape)")
    }
    filters = ks[3]
    if let bias, bias.shape != [filters] {
      throw TensorError("conv2d bias of shape \(bias.shape), expected [\(filters)]")
    }
    g = try WindowGeometry(
      batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
      window: (ks[0], ks[1]), strides: strides, padding: padding)
    rowsPerImage = g.outH * g.outW
    k = ks[0] * ks[1] * ks[2]
    imageSize = g.height * g.width * g.channels
    direct = ks[0] == 1 && ks[1] == 1 && strides == (1, 1) && g.padTop == 0 && g.padLeft == 0
    colStride = direct ? k : im2colRowLength(g)
    var winograd: WinogradConvolution?
    if case .winograd(let tile) = algorithm ?? ConvolutionAlgorithm.choose(g, filters: filters) {
      winograd = WinogradConvolution(g, filters: filters, tile: tile)
    }
    self.winograd = winograd
    // Each shard of the batch (`BatchShards`) in chunks of its own, so that a chunk's work is
    // the same however the batch is shared among processes; the kernel gradient is summed by
    // groups of chunks (see `ChunkPlan`).
    let (ks, rowsPerImage, k, filters) = (ks, rowsPerImage, k, filters)
    plan = ChunkPlan(try BatchShards.of(x), groupsPerBatch: winograd == nil ? 16 : 8) { images in
      winograd.map {
        imageChunks(
          batch: images, bytesPerImage: $0.tilesPerImage * $0.points * max(ks[2], filters) * 4,
          rowsPerImage: $0.tilesPerImage, minimumRows: 256)
      }
        ?? imageChunks(batch: images, bytesPerImage: rowsPerImage * k * 4, rowsPerImage: rowsPerImage, minimumRows: 256)
    }
    partSize = k * filters
    groupPartSize = winograd.map { $0.points * ks[2] * filters } ?? partSize
    oneGroupPerShard = plan.groupsPerShard == 1
    relu = activation == .relu
    pool =
      poolAfter
      ? try WindowGeometry(
        batch: g.batch, height: g.outH, width: g.outW, channels: filters, window: (2, 2), strides: (2, 2),
        padding: .valid) : nil
  }

  var convSize: Int { rowsPerImage * filters }
  var pooledSize: Int { pool.map { $0.outH * $0.outW * filters } ?? 0 }
  var outputShape: [Int] { [g.batch, pool?.outH ?? g.outH, pool?.outW ?? g.outW, filters] }

  /// The chunk's im2col matrix: x itself for a 1x1 kernel, else unfolded into `scratch`.
  @inline(__always)
  func unfold(_ xp: UnsafeMutablePointer<Float>, _ images: Range<Int>, _ scratch: UnsafeMutablePointer<Float>?)
    -> UnsafePointer<Float>
  {
    guard let scratch else { return UnsafePointer(xp + images.lowerBound * imageSize) }
    im2col(xp, g, scratch, images: images, padded: true)
    return UnsafePointer(scratch)
  }

  /// y from x, chunk by chunk in parallel; with a pooling after it, each window's winner into
  /// `winners` when given.
  func forward(
    _ xp: UnsafeMutablePointer<Float>, _ wp: UnsafeMutablePointer<Float>, _ bp: UnsafeMutablePointer<Float>?,
    _ transformedKernel: TensorStorage?, into yp: UnsafeMutablePointer<Float>, winners: TensorStorage?
  ) {
    let chunks = plan.chunks
    parallelFor(chunks.count) { ci in
      let images = chunks[ci]
      let rows = images.count * rowsPerImage
      let out = pool != nil ? Scratch.buffer(.output, count: rows * filters) : yp + images.lowerBound * convSize
      if let winograd, let transformedKernel {
        winograd.forward(xp, images: images, kernel: transformedKernel.pointer, into: out)
      } else {
        let col = unfold(xp, images, direct ? nil : Scratch.buffer(.columns, count: rows * colStride))
        gemm(
          m: rows, n: filters, k: k, a: col, lda: colStride, transA: false, b: wp, ldb: filters, transB: false,
          c: out, ldc: filters, accumulate: false, parallel: false)
      }
      if let pool {
        // Bias and ReLU applied as the pooling reads each cell: one pass over the rows, not two.
        for n in images {
          let pooled = n * pooledSize
          maxPool2x2ForwardImage(
            out + (n - images.lowerBound) * convSize, pool, yp + pooled, cell: winners.map { $0.pointer + pooled },
            bias: bp, relu: relu)
        }
      } else {
        biasActivationRows(out, rows: rows, n: filters, bias: bp, relu: relu)
      }
    }
  }

  /// The gradients of x (when it needs one), the kernel and the bias from dy: chunk by chunk,
  /// the kernel's summed by groups of chunks, the shards' as a tree.
  func backward(
    _ dy: Tensor, x: Variable, kernel: Variable, bias: Variable?, y: Tensor, winners: TensorStorage?,
    transformedKernel: TensorStorage?
  ) -> [Tensor?] {
    let (xp, wp) = (x.value.data, kernel.value.data)
    let chunks = plan.chunks
    let poolAfter = pool != nil
    let (yp, dyp) = (y.data, dy.data)
    let dx = x.requiresGrad ? Tensor(uninitialized: x.shape) : nil
    let dxp = dx?.data
    // Per-group kernel and per-chunk bias gradients, added in order below.
    let kernelParts = TensorStorage(count: oneGroupPerShard ? 0 : plan.groupChunks.count * groupPartSize, zeroed: false)
    let shardParts = TensorStorage(count: plan.shardChunks.count * partSize, zeroed: false)
    let biasParts = TensorStorage(count: bias == nil ? 0 : chunks.count * filters, zeroed: false)
    // The kernel transposed once, [filters, k] (or each Winograd point's [filters, channels]),
    // for the input gradient dZ·kernelᵀ: the chunks then read it as it is, where packing it
    // transposed in every chunk took a few percent.
    var kernelT = TensorStorage(count: 0)
    if dx != nil {
      if let winograd, let transformedKernel {
        kernelT = winograd.transposedKernel(transformedKernel.pointer)
      } else {
        kernelT = TensorStorage(count: k * filters, zeroed: false)
        transpose(wp, rows: k, cols: filters, into: kernelT.pointer)
      }
    }
    // All three stay out of the storage pool until the chunks are done and summed.
    defer { withExtendedLifetime((kernelParts, shardParts, biasParts, kernelT)) {} }
    let (kp, bpp, ktp) = (kernelParts.pointer, biasParts.pointer, kernelT.pointer)
    /// Chunk `ci`'s part of the backward pass, its kernel gradient added into `kernelSum`
    /// (or written there when it is the group's first chunk).
    func backwardChunk(_ ci: Int, _ kernelSum: UnsafeMutablePointer<Float>, first isFirst: Bool) {
      let images = chunks[ci]
      let rows = images.count * rowsPerImage
      let first = images.lowerBound * rowsPerImage * filters
      // dZ: dY through the pooling and the ReLU mask (dY itself without either).
      let dzScratch = relu || poolAfter ? Scratch.buffer(.gradient, count: rows * filters) : nil
      let dz = UnsafePointer(dzScratch ?? dyp + first)
      if let dzScratch, let pool, let winners {
        for n in images {
          let pooled = n * pooledSize
          maxPool2x2BackwardImage(
            cell: winners.pointer + pooled, dyp + pooled, pool, dzScratch + (n * convSize - first),
            reluOutput: relu ? yp + pooled : nil)
        }
      } else if let dzScratch {
        reluBackward(yp + first, dyp + first, dzScratch, rows * filters)
      }
      if bias != nil { sumRows(dz, rows: rows, n: filters, into: bpp + ci * filters) }
      if let winograd {
        winograd.backward(
          xp, images: images, dz: dz, kernelT: dxp == nil ? nil : UnsafePointer(ktp), kernelGradient: kernelSum,
          accumulate: !isFirst, dx: dxp.map { $0 + images.lowerBound * imageSize })
        return
      }
      let scratch = direct ? nil : Scratch.buffer(.columns, count: rows * colStride)
      let col = unfold(xp, images, scratch)
      gemm(
        m: k, n: filters, k: rows, a: col, lda: colStride, transA: true, b: dz, ldb: filters, transB: false,
        c: kernelSum, ldc: filters, accumulate: !isFirst, parallel: false)
      guard let dxp else { return }
      let dxChunk = dxp + images.lowerBound * imageSize
      // The input gradient: straight into dx for a 1x1 kernel, else via col2im (reusing the
      // im2col scratch).
      let dcol = scratch ?? dxChunk
      gemm(
        m: rows, n: k, k: filters, a: dz, lda: filters, transA: false, b: ktp, ldb: k, transB: false,
        c: dcol, ldc: k, accumulate: false, parallel: false)
      if direct { return }
      dxChunk.update(repeating: 0, count: images.count * imageSize)
      col2im(dcol, g, dxp, images: images)
    }
    parallelFor(plan.groupChunks.count) { gi in
      let own = plan.groupChunks[gi]
      let shardPart = shardParts.pointer + plan.groupShard[gi] * partSize
      let sum =
        !oneGroupPerShard
        ? kp + gi * groupPartSize : winograd == nil ? shardPart : Scratch.buffer(.kernelSum, count: groupPartSize)
      for ci in own { backwardChunk(ci, sum, first: ci == own.lowerBound) }
      if oneGroupPerShard, let winograd { winograd.kernelGradient(sum, into: shardPart) }
    }
    let dKernel = kernelGradient(groupParts: kp, shardParts: shardParts.pointer)
    let dBias = bias == nil ? nil : biasGradient(chunkParts: bpp)
    return bias == nil ? [dx, dKernel] : [dx, dKernel, dBias]
  }

  /// The kernel gradient from the groups' partial sums (when a shard has several groups) and
  /// the shards' kernels: each shard's groups in order, the shards' as a tree.
  private func kernelGradient(groupParts kp: UnsafeMutablePointer<Float>, shardParts: UnsafeMutablePointer<Float>)
    -> Tensor
  {
    if !oneGroupPerShard {
      let sum = TensorStorage(count: winograd == nil ? 0 : groupPartSize, zeroed: false)
      for (s, own) in plan.shardGroups.enumerated() where !own.isEmpty {
        let shardPart = shardParts + s * partSize
        guard let winograd else {
          sumRowsInParallel(kp + own.lowerBound * groupPartSize, rows: own.count, n: partSize, into: shardPart)
          continue
        }
        sumRowsInParallel(kp + own.lowerBound * groupPartSize, rows: own.count, n: groupPartSize, into: sum.pointer)
        winograd.kernelGradient(sum.pointer, into: shardPart)
      }
    }
    for (s, own) in plan.shardGroups.enumerated() where own.isEmpty {
      (shardParts + s * partSize).update(repeating: 0, count: partSize)
    }
    let dKernel = Tensor(uninitialized: ks)
    treeSumInPlace(shardParts, rows: plan.shardChunks.count, n: partSize)
    dKernel.data.update(from: shardParts, count: partSize)
    return dKernel
  }

  /// The bias gradient from each chunk's column sums: each shard's chunks in order, the
  /// shards' as a tree.
  private func biasGradient(chunkParts bpp: UnsafeMutablePointer<Float>) -> Tensor {
    let d = Tensor(uninitialized: [filters])
    let sums = TensorStorage(count: plan.shardChunks.count * filters, zeroed: false)
    for (s, own) in plan.shardChunks.enumerated() {
      sumRows(bpp + own.lowerBound * filters, rows: own.count, n: filters, into: sums.pointer + s * filters)
    }
    treeSumInPlace(sums.pointer, rows: plan.shardChunks.count, n: filters)
    d.data.update(from: sums.pointer, count: filters)
    return d
  }
}
