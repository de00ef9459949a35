import Autograd
import Tensors
import XCTest

final class ConvolutionTests: XCTestCase {
  /// Chunks cover the batch in order, number a multiple of 4 (or one per image), and keep
  /// each chunk's im2col matrix within 512 KiB unless a single image is larger.
  func testImageChunksPartitionTheBatch() {
    for batch in [0, 1, 2, 3, 5, 32, 100, 128] {
      for bytesPerImage in [1, 97_200, 194_688, 300_000, 2_000_000] {
        let chunks = imageChunks(batch: batch, bytesPerImage: bytesPerImage)
        XCTAssertEqual(chunks.map(\.count).reduce(0, +), batch)
        var next = 0
        for c in chunks {
          XCTAssertEqual(c.lowerBound, next)
          XCTAssertFalse(c.isEmpty)
          XCTAssertTrue(c.count == 1 || c.count * bytesPerImage <= 512 << 10, "\(batch) \(bytesPerImage) \(c)")
          next = c.upperBound
        }
        XCTAssertTrue(chunks.count % 4 == 0 || chunks.count == batch, "\(batch) \(bytesPerImage): \(chunks.count)")
      }
    }
    XCTAssertEqual(imageChunks(batch: 32, bytesPerImage: 194_688).count, 16, "the seed model's conv2: 2 images each")
    XCTAssertEqual(imageChunks(batch: -3, bytesPerImage: 100), [], "no images, no chunks")
    // A wide layer on small images: at least 256 rows a chunk (4 images of 8×8), not 1 image.
    let wide = imageChunks(batch: 1024, bytesPerImage: 64 * 2304 * 4, rowsPerImage: 64, minimumRows: 256)
    XCTAssertEqual(wide.count, 256)
    XCTAssert(wide.allSatisfy { $0.count == 4 })
  }

  /// With many chunks, summed in 16 groups: the kernel and bias gradients match the plain
  /// sums over the whole batch, and are bit-identical with 1 and 2 threads.
  func testKernelGradientOverManyChunks() throws {
    var rng = SeededRandom(seed: 5)
    // 8×8 images, 64 → 32 channels, 3×3 same: 4 images a chunk (256 rows), 24 chunks, 16 groups.
    let (n, h, w, c, f) = (96, 8, 8, 64, 32)
    let x = Tensor(zeros: [n, h, w, c])
    let kernel = Tensor(zeros: [3, 3, c, f])
    let weights = Tensor(zeros: [n, h, w, f])
    for t in [x, kernel, weights] { for i in 0..<t.count { t[i] = rng.uniform(-1, 1) } }
    func gradients(threads: Int) throws -> (Tensor, Tensor) {
      let saved = Threads.count
      Threads.count = threads
      defer { Threads.count = saved }
      let tape = Tape()
      let kv = Variable(kernel.copy(), requiresGrad: true)
      let bv = Variable(Tensor(zeros: [f]), requiresGrad: true)
      let y = try conv2d(
        tape.input(x, requiresGrad: false), kernel: kv, bias: bv, padding: .same, algorithm: .direct)
      try tape.backward(try weightedSum(y, weights: weights))
      return (kv.grad!, bv.grad!)
    }
    XCTAssertEqual(
      imageChunks(batch: n, bytesPerImage: h * w * 9 * c * 4, rowsPerImage: h * w, minimumRows: 256).count, 24)
    let (dk1, db1) = try gradients(threads: 1)
    let (dk2, db2) = try gradients(threads: 2)
    XCTAssertEqual(dk1.scalars, dk2.scalars)
    XCTAssertEqual(db1.scalars, db2.scalars)
    // dK = im2col(x)ᵀ · dY over the whole batch in one plain product; dB = column sums of dY.
    let g = try WindowGeometry(
      batch: n, height: h, width: w, channels: c, window: (3, 3), strides: (1, 1), padding: .same)
    let rows = n * h * w
    let k = 9 * c
    let col = Tensor(zeros: [rows, k])
    im2col(x.data, g, col.data)
    let expected = Tensor(zeros: [k, f])
    gemmReference(
      m: k, n: f, k: rows, a: col.data, lda: k, transA: true, b: weights.data, ldb: f, transB: false,
      c: expected.data, ldc: f, accumulate: false)
    for i in 0..<expected.count { XCTAssertEqual(dk1[i], expected[i], accuracy: 1e-3 * max(1, abs(expected[i]))) }
    for j in 0..<f {
      var s: Float = 0
      for r in 0..<rows { s += weights[r * f + j] }
      XCTAssertEqual(db1[j], s, accuracy: 1e-3)
    }
  }

  /// The chunked convolution matches the direct reference on a batch split into uneven chunks.
  func testChunkedForwardMatchesReference() throws {
    var rng = SeededRandom(seed: 11)
    let x = Tensor(zeros: [7, 6, 5, 3])
    let w = Tensor(zeros: [3, 2, 3, 4])
    let b = Tensor(zeros: [4])
    for t in [x, w, b] { for i in 0..<t.count { t[i] = rng.uniform(-1, 1) } }
    let y = try conv2d(Variable(x), kernel: Variable(w), bias: Variable(b), padding: .same)
    let g = try WindowGeometry(
      batch: 7, height: 6, width: 5, channels: 3, window: (3, 2), strides: (1, 1), padding: .same)
    let ref = Tensor(zeros: y.shape)
    convolutionReference(x.data, g, kernel: w.data, filters: 4, bias: b.data, ref.data)
    for i in 0..<ref.count { XCTAssertEqual(y.value[i], ref[i], accuracy: 1e-5) }
  }

  /// conv2dMaxPool gives exactly the output and gradients of conv2d then maxPool2d, with ReLU
  /// (where windows of zeros pass nothing back) and without, on odd sizes and uneven chunks.
  func testFusedConvolutionAndPoolingMatchTheTwoOps() throws {
    for (activation, filters, height, width) in [
      (Activation.relu, 8, 7, 6), (.linear, 16, 6, 9), (.relu, 8, 4, 4),
    ] {
      var rng = SeededRandom(seed: UInt64(filters + height))
      let x = Tensor(zeros: [5, height, width, 3])
      let w = Tensor(zeros: [3, 3, 3, filters])
      let b = Tensor(zeros: [filters])
      for t in [x, w, b] { for i in 0..<t.count { t[i] = rng.uniform(-1, 1) } }
      for i in stride(from: 0, to: b.count, by: 3) { b[i] = -10 }  // channels of all zeros after ReLU
      func run(_ fused: Bool) throws -> [[Float]] {
        let tape = Tape()
        let xv = tape.input(x, requiresGrad: true)
        let (kv, bv) = (Variable(w.copy(), requiresGrad: true), Variable(b.copy(), requiresGrad: true))
        let y =
          fused
          ? try conv2dMaxPool(xv, kernel: kv, bias: bv, activation: activation)
          : try maxPool2d(
            conv2d(xv, kernel: kv, bias: bv, activation: activation), pool: (2, 2), strides: (2, 2), padding: .valid)
        var rng = SeededRandom(seed: 3)
        let weights = Tensor(zeros: y.shape)
        for i in 0..<weights.count { weights[i] = rng.uniform(-1, 1) }
        try tape.backward(try weightedSum(y, weights: weights))
        return [y.value.scalars, xv.grad!.scalars, kv.grad!.scalars, bv.grad!.scalars]
      }
      XCTAssertEqual(try run(true), try run(false), "\(activation) \(filters) \(height)x\(width)")
    }
    XCTAssertThrowsError(
      try conv2dMaxPool(
        Variable(Tensor(zeros: [1, 4, 4, 1])), kernel: Variable(Tensor(zeros: [1, 1, 1, 3])), bias: nil))
  }
}
