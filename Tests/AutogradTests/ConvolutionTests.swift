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
}
