import CNN
import Foundation
import XCTest

/// The fast recipe's network and its parts: dirac starts, the whitening kernel, the models'
/// shapes and the FLOP count `cnn bench --model` reports.
final class FastRecipeTests: XCTestCase {
  func testDiracConvolutionPassesChannelsThrough() throws {
    let conv = Conv2D(filters: 5, kernelSize: (3, 3), padding: .same, useBias: false, kernelInitializer: .dirac)
    var rng = SeededRandom(seed: 0)
    try conv.build(inputShape: [4, 4, 3], rng: &rng)
    var values = SeededRandom(seed: 1)
    let x = Tensor(uninitialized: [2, 4, 4, 3])
    for i in 0..<x.count { x[i] = values.nextFloat() }
    let y = try conv(Variable(x)).value
    for i in 0..<(2 * 16) {
      for c in 0..<3 { XCTAssertEqual(y[i * 5 + c], x[i * 3 + c]) }
    }
  }

  func testSymmetricEigenDecomposition() {
    let m: [Double] = [4, 1, 2, 1, 3, 0, 2, 0, 5]
    let (values, vectors) = Whitening.symmetricEigen(m, 3)
    for e in 0..<3 {
      for r in 0..<3 {
        let av = (0..<3).reduce(0.0) { $0 + m[r * 3 + $1] * vectors[$1 * 3 + e] }
        XCTAssertEqual(av, values[e] * vectors[r * 3 + e], accuracy: 1e-9)
      }
    }
    XCTAssertEqual(values.reduce(0, +), 12, accuracy: 1e-9, "the trace")
  }

  /// Whitened patches have identity second moments (up to ε): the filters' responses over the
  /// same patches are uncorrelated with unit mean square.
  func testWhiteningDecorrelatesPatches() throws {
    var rng = SeededRandom(seed: 3)
    var images: [UInt8] = []
    for _ in 0..<(20 * 8 * 8) {
      let base = rng.nextInt(below: 200)
      images += [UInt8(base), UInt8(base / 2 + rng.nextInt(below: 40)), UInt8(rng.nextInt(below: 256))]
    }
    let data = try ImageDataset(
      images: images, labels: [UInt8](repeating: 0, count: 20), height: 8, width: 8, channels: 3, classNames: ["a"])
    let kernel = try Whitening.kernel(from: data, epsilon: 1e-9) { $0 }
    XCTAssertEqual(kernel.shape, [2, 2, 3, 24])
    let conv = Conv2D(filters: 24, kernelSize: (2, 2), useBias: false, trainableKernel: false)
    var r = SeededRandom(seed: 0)
    try conv.build(inputShape: [8, 8, 3], rng: &r)
    try conv.setWeights([kernel])
    var batches = data.batches(size: 20, seed: 0, epoch: 0, shuffle: false).makeIterator()
    let out = try conv(Variable(try XCTUnwrap(batches.next()).images)).value
    let n = out.count / 24
    for a in 0..<12 {
      for b in 0..<12 {
        var cov = 0.0
        for i in 0..<n { cov += Double(out[i * 24 + a]) * Double(out[i * 24 + b]) }
        XCTAssertEqual(cov / Double(n), a == b ? 1 : 0, accuracy: 1e-3, "filters \(a), \(b)")
      }
    }
  }

  func testFastModels() throws {
    let fast93 = try Zoo.model("fast93")
    XCTAssertEqual(fast93.outputShape, [10])
    XCTAssertEqual(fast93.outputShapes[1], [31, 31, 24], "the 2x2 whitening convolution, no padding")
    XCTAssertTrue(fast93.summary().contains("Total params: 570,302"), fast93.summary())
    let names = Set(fast93.namedTrainableParameters.map(\.name))
    XCTAssertFalse(names.contains("conv2d.kernel"), "the whitening kernel is frozen")
    XCTAssertTrue(names.contains("conv2d.bias"))
    XCTAssertFalse(names.contains { $0.hasSuffix("gamma") }, "batch norm scales are frozen")
    XCTAssertTrue(try Zoo.model("fast94").summary().contains("Total params: 1,973,950"))
  }
}
