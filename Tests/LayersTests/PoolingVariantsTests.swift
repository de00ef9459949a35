import Autograd
import Layers
import Tensors
import XCTest

/// Min, mixed, Lp and Avg-TopK pooling: gradients by finite differences, the SIMD path equal
/// to the reference, 1 and 2 threads equal, and hand-computed windows.
final class PoolingVariantsTests: XCTestCase {
  let seedTable: [Float] = [1, 3, 2, 9, 5, 6, 1, 7, 4, 2, 8, 6, 3, 5, 7, 2]

  func table(_ values: [Float], _ h: Int, _ w: Int) throws -> Variable {
    Variable(try Tensor(shape: [1, h, w, 1], values: values))
  }

  func built<L: Layer>(_ layer: L, _ shape: [Int]) throws -> L {
    var rng = SeededRandom(seed: 0)
    try layer.build(inputShape: shape, rng: &rng)
    return layer
  }

  // MARK: Gradients

  func testMinPoolGradients() throws {
    try checkLayerGradients(MinPooling2D(), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(MinPooling2D(), inputShape: [2, 4, 5, 8], seed: 4)
    try checkLayerGradients(MinPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same), inputShape: [2, 5, 7, 3])
  }

  func testAvgTopKGradients() throws {
    try checkLayerGradients(AvgTopKPooling2D(k: 2), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(AvgTopKPooling2D(k: 3), inputShape: [2, 4, 5, 8], seed: 4)
    try checkLayerGradients(
      AvgTopKPooling2D(k: 4, poolSize: (3, 3), strides: (2, 2), padding: .same), inputShape: [1, 5, 7, 3], seed: 5)
  }

  func testMixedGradients() throws {
    try checkLayerGradients(MixedPooling2D(), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(MixedPooling2D(.learned(perChannel: true, initial: 0.3)), inputShape: [2, 4, 4, 8])
    try checkLayerGradients(MixedPooling2D(.fixed(0.7), poolSize: (3, 3), padding: .same), inputShape: [2, 5, 7, 3])
  }

  func testLpGradients() throws {
    try checkLayerGradients(LpPooling2D(p: 2), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(LpPooling2D(p: 2), inputShape: [2, 4, 4, 8], seed: 3)
    try checkLayerGradients(LpPooling2D(p: 1, poolSize: (3, 3), padding: .same), inputShape: [2, 5, 7, 3])
    // p = 3 and 2.5 on positive inputs (negative power sums have no real root).
    for p: Float in [3, 2.5] {
      let layer = LpPooling2D(p: p, poolSize: (3, 2), strides: (2, 1))
      let x = spacedTensor([2, 5, 6, 2], seed: 9)
      for i in 0..<x.count { x[i] = x[i] + 1.5 }
      let r = randomTensor([2, 2, 5, 2], seed: 10)
      try checkGradients(input: x, parameters: []) { try weightedSum(try layer($0), weights: r) }
    }
  }

  func testGlobalGradients() throws {
    try checkLayerGradients(GlobalMinPooling2D(), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(GlobalAvgTopKPooling2D(k: 3), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(GlobalLpPooling2D(p: 2), inputShape: [2, 5, 7, 3])
    try checkLayerGradients(GlobalMixedPooling2D(), inputShape: [2, 5, 7, 3])
  }

  // MARK: SIMD path against the reference

  /// Channel `c` of an NHWC tensor, as [N, H, W, 1].
  func channel(_ t: Tensor, _ c: Int) -> Tensor {
    let channels = t.shape[3]
    let out = Tensor(zeros: Array(t.shape.dropLast()) + [1])
    for i in 0..<out.count { out[i] = t[i * channels + c] }
    return out
  }

  /// y and dx of sum(y · r) for `op` on x, where r at (pixel, channel) depends on the pixel and
  /// on the channel's place `firstChannel + channel` in the whole tensor, so that a slice of
  /// channels gets the same r as the whole.
  func forwardBackward(_ op: (Variable) throws -> Variable, _ x: Tensor, firstChannel: Int = 0) throws -> (
    Tensor, Tensor
  ) {
    let tape = Tape()
    let v = tape.input(x, requiresGrad: true)
    let y = try op(v)
    let r = Tensor(zeros: y.shape)
    let c = y.shape.last!
    for i in 0..<r.count { r[i] = Float((i / c * 5 + firstChannel + i % c) % 7) - 3 }
    try tape.backward(try weightedSum(y, weights: r))
    return (y.value, v.grad!)
  }

  /// Quantised values: many ties, so both paths' tie rules are exercised.
  func tiedTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    let t = Tensor(zeros: shape)
    var rng = SeededRandom(seed: seed)
    for i in 0..<t.count { t[i] = Float(rng.nextInt(below: 5)) - 2 }
    return t
  }

  func testSIMDPathEqualsReference() throws {
    let ops: [(String, (Variable) throws -> Variable)] = [
      ("min", { try minPool2d($0, pool: (2, 2), strides: (2, 2), padding: .valid) }),
      ("top1", { try avgTopKPool2d($0, k: 1, pool: (2, 2), strides: (2, 2), padding: .valid) }),
      ("top2", { try avgTopKPool2d($0, k: 2, pool: (2, 2), strides: (2, 2), padding: .valid) }),
      ("top3", { try avgTopKPool2d($0, k: 3, pool: (2, 2), strides: (2, 2), padding: .valid) }),
      ("lp2", { try lpPool2d($0, p: 2, pool: (2, 2), strides: (2, 2), padding: .valid) }),
      (
        "mixed",
        {
          try mixedPool2d(
            $0, lambda: .variable(Variable(Tensor(shape: [1], repeating: 0.3))), pool: (2, 2), strides: (2, 2),
            padding: .valid)
        }
      ),
    ]
    for data in [tiedTensor([3, 5, 7, 16], seed: 1), randomTensor([3, 5, 7, 16], seed: 2)] {
      for (name, op) in ops {
        let (y, dx) = try forwardBackward(op, data)
        for c in 0..<16 {
          let (y1, dx1) = try forwardBackward(op, channel(data, c), firstChannel: c)
          XCTAssertTrue(channel(y, c).scalars == y1.scalars, "\(name) y, channel \(c)")
          XCTAssertTrue(channel(dx, c).scalars == dx1.scalars, "\(name) dx, channel \(c)")
        }
      }
    }
  }

  /// `same` padding of odd sizes puts the last 2×2 window half outside the input: those take
  /// the reference path (the SIMD one would read past the image).
  func testSamePaddingOfOddSizesWithEightChannels() throws {
    let x = tiedTensor([2, 3, 5, 8], seed: 4)
    let layers: [any Layer] = [
      MaxPooling2D(padding: .same), MinPooling2D(padding: .same), AvgTopKPooling2D(k: 2, padding: .same),
      LpPooling2D(p: 2, padding: .same), MixedPooling2D(.fixed(0.25), padding: .same),
    ]
    for layer in layers {
      let (y, dx) = try forwardBackward({ try layer($0) }, x)
      XCTAssertEqual(y.shape, [2, 2, 3, 8])
      for c in 0..<8 {
        let (y1, dx1) = try forwardBackward({ try layer($0) }, channel(x, c), firstChannel: c)
        XCTAssertTrue(channel(y, c).scalars == y1.scalars, "\(layer.typeName) y, channel \(c)")
        XCTAssertTrue(channel(dx, c).scalars == dx1.scalars, "\(layer.typeName) dx, channel \(c)")
      }
    }
    try checkLayerGradients(MaxPooling2D(padding: .same), inputShape: [2, 3, 5, 8])
    try checkLayerGradients(AvgTopKPooling2D(k: 3, padding: .same), inputShape: [2, 3, 5, 8])
  }

  /// A global window of more than 64 cells ranks by sorting: the same choice as the pairwise
  /// ranks, ties to the earlier cell.
  func testGlobalAvgTopKOnALargeImage() throws {
    var values = [Float](repeating: 1, count: 100)
    values[7] = 5
    values[70] = 5
    values[99] = 4
    let tape = Tape()
    let x = tape.input(try Tensor(shape: [1, 10, 10, 1], values: values), requiresGrad: true)
    let y = try GlobalAvgTopKPooling2D(k: 4)(x)
    XCTAssertEqual(y.value.scalars, [15.0 / 4])
    try tape.backward(try weightedSum(y, weights: Tensor(shape: [1, 1], repeating: 1)))
    let chosen = (0..<100).filter { x.grad![$0] != 0 }
    XCTAssertEqual(chosen, [0, 7, 70, 99], "5, 5, 4, then the first of the 1s")
  }

  func testOneAndTwoThreadsAgree() throws {
    let layers: [any Layer] = [
      MinPooling2D(), AvgTopKPooling2D(k: 2), LpPooling2D(p: 2), LpPooling2D(p: 3),
      try built(MixedPooling2D(.learned(perChannel: true)), [6, 6, 8]), try built(MixedPooling2D(.random), [6, 6, 8]),
      AvgTopKPooling2D(k: 2, poolSize: (3, 3), padding: .same),
    ]
    let x = randomTensor([6, 6, 6, 8], seed: 3)
    for layer in layers {
      var results: [[Float]] = []
      for threads in [1, 2] {
        let saved = Threads.count
        Threads.count = threads
        defer { Threads.count = saved }
        for p in layer.parameters { p.variable.grad = nil }
        let (y, dx) = try forwardBackward({ try layer($0) }, x)
        results.append(y.scalars + dx.scalars + (layer.parameters.first?.variable.grad?.scalars ?? []))
      }
      let differing = zip(results[0], results[1]).filter { $0.bitPattern != $1.bitPattern }.count
      XCTAssertEqual(results[0].count, results[1].count)
      XCTAssertEqual(differing, 0, layer.typeName)
    }
  }

  // MARK: Hand-computed windows

  func testSeedTableUnderEachPooling() throws {
    let x = try table(seedTable, 4, 4)
    XCTAssertEqual(try MinPooling2D()(x).value.scalars, [1, 1, 2, 2])
    XCTAssertEqual(try AvgTopKPooling2D(k: 2)(x).value.scalars, [5.5, 8, 4.5, 7.5])
    XCTAssertEqual(try AvgTopKPooling2D(k: 1)(x).value.scalars, [6, 9, 5, 8], "k = 1 is max pooling")
    XCTAssertEqual(try AvgTopKPooling2D(k: 4)(x).value.scalars, [3.75, 4.75, 3.5, 5.75], "k = 4 is average pooling")
    XCTAssertEqual(try MixedPooling2D(.fixed(0.5))(x).value.scalars, [4.875, 6.875, 4.25, 6.875])
    XCTAssertEqual(try MixedPooling2D(.fixed(1))(x).value.scalars, [6, 9, 5, 8])
    XCTAssertEqual(try LpPooling2D(p: 1)(x).value.scalars, [15, 19, 14, 23], "p = 1 sums")
    XCTAssertEqual(try LpPooling2D(p: 2)(x).value.scalars, [71, 135, 54, 153].map { Float($0).squareRoot() })
    XCTAssertEqual(try GlobalMinPooling2D()(x).value.scalars, [1])
    XCTAssertEqual(try GlobalAvgTopKPooling2D(k: 3)(x).value.scalars, [8])
    XCTAssertEqual(try GlobalMixedPooling2D(.fixed(0.5))(x).value.scalars, [6.71875])
  }

  func testTiesGoToTheEarlierCell() throws {
    let tape = Tape()
    let x = tape.input(try Tensor(shape: [1, 2, 2, 1], values: [5, 2, 5, 1]), requiresGrad: true)
    let top1 = try AvgTopKPooling2D(k: 1)(x)
    XCTAssertEqual(top1.value.scalars, [5])
    try tape.backward(try weightedSum(top1, weights: Tensor(shape: [1, 1, 1, 1], repeating: 1)))
    XCTAssertEqual(x.grad!.scalars, [1, 0, 0, 0])

    let tape2 = Tape()
    let y = tape2.input(try Tensor(shape: [1, 2, 2, 1], values: [3, 2, 2, 2]), requiresGrad: true)
    let top2 = try AvgTopKPooling2D(k: 2)(y)
    XCTAssertEqual(top2.value.scalars, [2.5])
    try tape2.backward(try weightedSum(top2, weights: Tensor(shape: [1, 1, 1, 1], repeating: 1)))
    XCTAssertEqual(y.grad!.scalars, [0.5, 0.5, 0, 0])

    let tape3 = Tape()
    let z = tape3.input(try Tensor(shape: [1, 2, 2, 1], values: [4, 1, 1, 4]), requiresGrad: true)
    let low = try MinPooling2D()(z)
    XCTAssertEqual(low.value.scalars, [1])
    try tape3.backward(try weightedSum(low, weights: Tensor(shape: [1, 1, 1, 1], repeating: 2)))
    XCTAssertEqual(z.grad!.scalars, [0, 2, 0, 0])
  }

  func testNegativeValuesAndEmptyWindows() throws {
    let x = try table([-3, 4, -1, -2, -5, 0, 7, -8, 0, 0, 0, 0, -2, 1, 0, 0], 4, 4)
    XCTAssertEqual(try MinPooling2D()(x).value.scalars, [-5, -8, -2, 0])
    XCTAssertEqual(try AvgTopKPooling2D(k: 2)(x).value.scalars, [2, 3, 0.5, 0])
    XCTAssertEqual(try LpPooling2D(p: 2)(x).value.scalars, [50, 118, 5, 0].map { Float($0).squareRoot() })
    let cubes = try LpPooling2D(p: 3)(x).value.scalars
    XCTAssertTrue(cubes[0].isNaN, "-27 + 64 - 125 < 0: no real cube root, NaN as in PyTorch")
    XCTAssertEqual(cubes[3], 0, "a window of zeros")
    // The gradient of an all-zero window is 0 (PyTorch: NaN).
    let tape = Tape()
    let zeros = tape.input(Tensor(zeros: [1, 2, 2, 1]), requiresGrad: true)
    try tape.backward(
      try weightedSum(try LpPooling2D(p: 2)(zeros), weights: Tensor(shape: [1, 1, 1, 1], repeating: 1)))
    XCTAssertEqual(zeros.grad!.scalars, [0, 0, 0, 0])
  }

  /// A power sum past float32's range is rescaled: large p approaches max pooling instead of
  /// giving inf, on both paths; the gradient stays finite.
  func testLpWithLargePowers() throws {
    let x = try table(seedTable, 4, 4)
    let y = try LpPooling2D(p: 100)(x).value.scalars
    for (a, b) in zip(y, [6, 9, 5, 8] as [Float]) { XCTAssertEqual(a, b, accuracy: b * 0.02) }
    let big = Tensor(shape: [1, 2, 2, 8], repeating: 3e19)
    let tape = Tape()
    let v = tape.input(big, requiresGrad: true)
    let l2 = try LpPooling2D(p: 2)(v)
    XCTAssertEqual(l2.value[0], 6e19, accuracy: 6e19 * 1e-6)
    try tape.backward(try weightedSum(l2, weights: Tensor(shape: [1, 1, 1, 8], repeating: 1)))
    XCTAssertEqual(v.grad![0], 0.5, accuracy: 1e-6)
  }

  func testSamePaddingWindowsUseOnlyRealCells() throws {
    // 3x3 input, 2x2 windows, same padding: windows of 4, 2, 2 and 1 real cells.
    let x = try table([1, -2, 3, 4, 5, -6, 7, 8, 9], 3, 3)
    XCTAssertEqual(try MinPooling2D(padding: .same)(x).value.scalars, [-2, -6, 7, 9])
    XCTAssertEqual(try AvgTopKPooling2D(k: 3, padding: .same)(x).value.scalars, [10 / 3, -3 / 2, 15 / 2, 9])
    XCTAssertEqual(try LpPooling2D(p: 1, padding: .same)(x).value.scalars, [8, -3, 15, 9])
    XCTAssertEqual(try MixedPooling2D(.fixed(0.5), padding: .same)(x).value.scalars, [3.5, 0.75, 7.75, 9])
  }

  /// The random variant: every window is its max (λ = 1) or its average (λ = 0), about half
  /// each; the same input draws the same way; inference takes λ = 0.5.
  func testRandomMixingDrawsMaxOrAverage() throws {
    let layer = try built(MixedPooling2D(.random), [8, 8, 8])
    let x = randomTensor([4, 8, 8, 8], seed: 7)
    let maxY = try MaxPooling2D()(Variable(x)).value.scalars
    let avgY = try AveragePooling2D()(Variable(x)).value.scalars
    let tape = Tape()
    let y = try layer(tape.input(x, requiresGrad: true)).value.scalars
    XCTAssertEqual(y.indices.filter { y[$0] != maxY[$0] && y[$0] != avgY[$0] }, [])
    let maxima = y.indices.filter { y[$0] == maxY[$0] }.count
    XCTAssertTrue((y.count * 4 / 10)...(y.count * 6 / 10) ~= maxima, "\(maxima) of \(y.count)")
    XCTAssertEqual(try layer(tape.input(x, requiresGrad: true)).value.scalars, y)
    let inference = try layer(Variable(x)).value.scalars
    XCTAssertEqual(inference, y.indices.map { 0.5 * maxY[$0] + 0.5 * avgY[$0] })
  }

  func testBadConfigurationsFailWhenBuilt() throws {
    let cases: [(any Layer, [Int], String)] = [
      (AvgTopKPooling2D(k: 5), [4, 4, 1], "AvgTopKPooling2D: k 5 is larger than the 2x2 window (4 cells)"),
      (AvgTopKPooling2D(k: 0), [4, 4, 1], "k must be at least 1, got 0"),
      (GlobalAvgTopKPooling2D(k: 17), [4, 4, 1], "k 17 is larger than the 4x4 image (16 cells)"),
      (LpPooling2D(p: 0), [4, 4, 1], "LpPooling2D: p must be a finite number above 0, got 0.0"),
      (LpPooling2D(p: -1), [4, 4, 1], "p must be a finite number above 0, got -1.0"),
      (GlobalLpPooling2D(p: .infinity), [4, 4, 1], "p must be a finite number above 0, got inf"),
      (MixedPooling2D(.fixed(1.5)), [4, 4, 1], "MixedPooling2D: lambda must lie in [0, 1], got 1.5"),
      (MixedPooling2D(.learned(initial: -0.1)), [4, 4, 1], "lambda must lie in [0, 1], got -0.1"),
      (MinPooling2D(poolSize: (5, 5)), [4, 4, 1], "pool 5x5 is larger than its input 4x4"),
    ]
    for (layer, shape, message) in cases {
      var rng = SeededRandom(seed: 0)
      XCTAssertThrowsError(try layer.build(inputShape: shape, rng: &rng), message) {
        XCTAssertTrue("\($0)".contains(message), "\($0)")
      }
    }
  }

  /// PyTorch 2.15's `nn.LPPool2d(p, 2)` on three 4x4 inputs (float32, printed to 9 digits):
  /// outputs for p = 1, 2, 3, and input gradients of sum(y) for p = 2 and 3. PyTorch divides
  /// the sum by 4 and multiplies it back, we sum: the two agree to float32 rounding.
  func testLpPoolAgreesWithPyTorch() throws {
    let inputs: [String: [Float]] = [
      "seed": seedTable,
      "signed": [-3, 4, -1, -2, -5, 0, 7, -8, 0, 0, 0, 0, -2, 1, 0, 0],
      "fractions": [0.1, 0.7, 1.3, 2.9, 0.25, 0.5, 3.1, 0.05, 1.7, 2.2, 0.9, 0.4, 0.3, 1.1, 2.6, 0.8],
    ]
    let torch: [(String, Float, [Float])] = [
      ("seed", 1, [15, 19, 14, 23]),
      ("seed", 2, [8.42614937, 11.6189499, 7.34846926, 12.3693171]),
      ("seed", 3, [7.17258072, 10.2630215, 6.07317781, 10.2566881]),
      ("signed", 1, [-4, -4, -1, 0]),
      ("signed", 2, [7.07106781, 10.8627806, 2.23606801, 0]),
      ("signed", 3, [.nan, .nan, .nan, 0]),
      ("fractions", 1, [1.54999995, 7.3499999, 5.30000019, 4.69999981]),
      ("fractions", 2, [0.901387811, 4.43987608, 3.00499606, 2.89309502]),
      ("fractions", 3, [0.785480261, 3.83443141, 2.56719136, 2.66281891]),
    ]
    func close(_ a: [Float], _ b: [Float], _ tolerance: Float) -> Bool {
      a.count == b.count
        && zip(a, b).allSatisfy { x, y in x.isNaN ? y.isNaN : abs(x - y) <= tolerance * Swift.max(abs(y), 1e-3) }
    }
    for (name, p, expected) in torch {
      let y = try LpPooling2D(p: p)(try table(inputs[name]!, 4, 4)).value.scalars
      XCTAssertTrue(close(y, expected, 3e-7), "\(name), p = \(p): \(y), PyTorch \(expected)")
    }
    let gradients: [(Float, [Float])] = [
      (
        2,
        [
          0.110940039, 0.776580274, 0.292800963, 0.65317142, 0.277350098, 0.554700196, 0.69821769, 0.0112615759,
          0.565724552, 0.732114136, 0.311085522, 0.13826023, 0.0998337492, 0.366057068, 0.898691475, 0.276520461,
        ]
      ),
      (
        3,
        [
          0.0162080023, 0.794192076, 0.114943586, 0.571997464, 0.101300016, 0.405200064, 0.653614104, 0.000170034909,
          0.438511908, 0.734393656, 0.114235669, 0.0225650724, 0.0136560798, 0.183598414, 0.953374267, 0.0902602896,
        ]
      ),
    ]
    for (p, expected) in gradients {
      let tape = Tape()
      let x = tape.input(try Tensor(shape: [1, 4, 4, 1], values: inputs["fractions"]!), requiresGrad: true)
      try tape.backward(try weightedSum(try LpPooling2D(p: p)(x), weights: Tensor(shape: [1, 2, 2, 1], repeating: 1)))
      XCTAssertTrue(close(x.grad!.scalars, expected, 1e-6), "gradient, p = \(p): \(x.grad!.scalars)")
    }
  }
}
