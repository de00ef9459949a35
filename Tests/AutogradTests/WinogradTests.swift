import Autograd
import Tensors
import XCTest

final class WinogradTests: XCTestCase {
  /// Output and all three gradients of a convolution by `algorithm`, with loss Σ y ⊙ r.
  private func run(
    _ x: Tensor, _ kernel: Tensor, _ bias: Tensor, _ r: Tensor?, padding: Padding, activation: Activation = .linear,
    _ algorithm: ConvolutionAlgorithm
  ) throws -> (y: Tensor, dx: Tensor, dk: Tensor, db: Tensor) {
    let tape = Tape()
    let xv = tape.input(x, requiresGrad: true)
    let (kv, bv) = (Variable(kernel.copy(), requiresGrad: true), Variable(bias.copy(), requiresGrad: true))
    let y = try conv2d(xv, kernel: kv, bias: bv, padding: padding, activation: activation, algorithm: algorithm)
    let weights = r ?? randomTensor(y.shape, seed: 99)
    try tape.backward(try weightedSum(y, weights: weights))
    return (y.value, xv.grad!, kv.grad!, bv.grad!)
  }

  /// The largest difference relative to the largest magnitude of the reference.
  private func relativeError(_ a: Tensor, _ reference: Tensor) -> Double {
    XCTAssertEqual(a.shape, reference.shape)
    var (diff, scale) = (0.0, 0.0)
    for i in 0..<a.count {
      diff = max(diff, Double(abs(a[i] - reference[i])))
      scale = max(scale, Double(abs(reference[i])))
    }
    return diff / max(scale, 1e-30)
  }

  /// Both tiles against the direct path: odd sizes (edge tiles cut by the image), images
  /// smaller than a tile, `same` and `valid`, batches of 1 and more, with ReLU and without.
  func testMatchesTheDirectPath() throws {
    let shapes: [(n: Int, h: Int, w: Int, c: Int, f: Int, Padding, Activation)] = [
      (3, 7, 5, 3, 5, .same, .linear), (2, 6, 9, 4, 8, .valid, .relu), (1, 3, 3, 2, 3, .same, .linear),
      (1, 3, 3, 2, 3, .valid, .linear), (2, 1, 2, 3, 4, .same, .linear), (5, 4, 4, 40, 33, .same, .relu),
      (4, 15, 15, 16, 24, .same, .linear),
    ]
    for (i, s) in shapes.enumerated() {
      let seed = UInt64(10 * i)
      let x = randomTensor([s.n, s.h, s.w, s.c], seed: seed)
      let kernel = randomTensor([3, 3, s.c, s.f], seed: seed + 1)
      let bias = randomTensor([s.f], seed: seed + 2)
      let direct = try run(x, kernel, bias, nil, padding: s.5, activation: s.6, .direct)
      for tile in WinogradTile.allCases {
        let w = try run(x, kernel, bias, nil, padding: s.5, activation: s.6, .winograd(tile))
        let bound = tile == .f2 ? 1e-6 : 1e-5
        let label = "\(tile) on \(s)"
        XCTAssertLessThan(relativeError(w.y, direct.y), bound, "output, \(label)")
        XCTAssertLessThan(relativeError(w.dx, direct.dx), bound, "input gradient, \(label)")
        XCTAssertLessThan(relativeError(w.dk, direct.dk), bound, "kernel gradient, \(label)")
        XCTAssertLessThan(relativeError(w.db, direct.db), bound, "bias gradient, \(label)")
      }
    }
  }

  /// The gradients of the Winograd op by central differences, for both tiles and paddings.
  func testGradientsByFiniteDifferences() throws {
    for tile in WinogradTile.allCases {
      for padding in [Padding.same, .valid] {
        let x = randomTensor([2, 5, 6, 3], seed: 1)
        let kernel = randomTensor([3, 3, 3, 4], seed: 2)
        let bias = randomTensor([4], seed: 3)
        let yShape = padding == .same ? [2, 5, 6, 4] : [2, 3, 4, 4]
        let r = randomTensor(yShape, seed: 4)
        let analytic = try run(x, kernel, bias, r, padding: padding, .winograd(tile))
        func loss() throws -> Double {
          let y = try conv2d(
            Variable(x), kernel: Variable(kernel), bias: Variable(bias), padding: padding, algorithm: .winograd(tile))
          return (0..<y.value.count).reduce(0.0) { $0 + Double(y.value[$1]) * Double(r[$1]) }
        }
        for (name, t, g) in [("input", x, analytic.dx), ("kernel", kernel, analytic.dk), ("bias", bias, analytic.db)] {
          for i in 0..<t.count {
            let saved = t[i]
            t[i] = saved + 0.01
            let plus = try loss()
            t[i] = saved - 0.01
            let minus = try loss()
            t[i] = saved
            let numeric = (plus - minus) / 0.02
            XCTAssertEqual(
              Double(g[i]), numeric, accuracy: 1e-2 * max(1, abs(numeric)), "\(tile) \(padding) \(name)[\(i)]")
          }
        }
      }
    }
  }

  /// Many chunks and kernel-gradient groups: results bit-identical with 1 and 2 threads.
  func testThreadCountDoesNotChangeResults() throws {
    let x = randomTensor([96, 8, 8, 64], seed: 5)
    let kernel = randomTensor([3, 3, 64, 32], seed: 6)
    let bias = randomTensor([32], seed: 7)
    func results(threads: Int) throws -> [[Float]] {
      let saved = Threads.count
      Threads.count = threads
      defer { Threads.count = saved }
      let r = try run(x, kernel, bias, nil, padding: .same, .winograd(.f4))
      return [r.y.scalars, r.dx.scalars, r.dk.scalars, r.db.scalars]
    }
    XCTAssertEqual(try results(threads: 1), try results(threads: 2))
  }

  /// The rule: F(4×4) for 3×3 stride-1 layers of 64 channels and filters or more, else direct.
  func testChoice() throws {
    func geometry(_ c: Int, window: Int = 3, stride: Int = 1) throws -> WindowGeometry {
      try WindowGeometry(
        batch: 1, height: 8, width: 8, channels: c, window: (window, window), strides: (stride, stride),
        padding: .same)
    }
    guard ConvolutionAlgorithm.override == nil else { throw XCTSkip("CNN_CONV is set") }
    XCTAssertEqual(ConvolutionAlgorithm.choose(try geometry(64), filters: 64), .winograd(.f4))
    XCTAssertEqual(ConvolutionAlgorithm.choose(try geometry(3), filters: 64), .direct)
    XCTAssertEqual(ConvolutionAlgorithm.choose(try geometry(32), filters: 64), .direct, "the seed model's conv2")
    XCTAssertEqual(ConvolutionAlgorithm.choose(try geometry(64, window: 5), filters: 64), .direct)
    XCTAssertEqual(ConvolutionAlgorithm.choose(try geometry(64, stride: 2), filters: 64), .direct)
  }
}

/// Uniform values in [-1, 1) from `seed`.
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  let t = Tensor(zeros: shape)
  var rng = SeededRandom(seed: seed)
  for i in 0..<t.count { t[i] = rng.uniform(-1, 1) }
  return t
}
