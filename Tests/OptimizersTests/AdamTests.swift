import Autograd
import Optimizers
import Tensors
import XCTest

final class AdamTests: XCTestCase {
  /// Runs Adam on one scalar parameter starting at 1 with the given gradients.
  func trajectory(_ grads: [Float], optimizer: Optimizer) throws -> [Float] {
    let p = Variable(Tensor(shape: [1], repeating: 1), requiresGrad: true)
    return try grads.map { g in
      p.grad = Tensor(shape: [1], repeating: g)
      try optimizer.step([p])
      XCTAssertNil(p.grad, "step clears the gradient")
      return p.value[0]
    }
  }

  // Expected values by hand (Keras's update, in double precision):
  //   m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g²; a = lr sqrt(1 - 0.999^t) / (1 - 0.9^t)
  //   p -= a m / (sqrt(v) + 1e-7)
  // Step 1 with g = 0.5, lr = 0.1: m = 0.05, v = 0.00025, a = 0.0316227766,
  //   p = 1 - 0.0316227766 * 0.05 / 0.0158114883 = 0.9000006325.
  // Step 2 with g = -0.2: m = 0.025, v = 0.00028975, a = 0.0235316725,
  //   p = 0.9000006325 - 0.0235316725 * 0.025 / 0.0170221443 = 0.8654402507.
  func testMatchesHandComputedSteps() throws {
    let got = try trajectory([0.5, -0.2, 0.1, 2.0], optimizer: Adam(learningRate: 0.1))
    let expected: [Float] = [0.9000006325, 0.8654402507, 0.8275012915, 0.7632489572]
    for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 2e-6) }
  }

  func testConstantGradientStepsByTheLearningRate() throws {
    let got = try trajectory([0.5, 0.5, 0.5], optimizer: Adam(learningRate: 0.1))
    for (g, e) in zip(got, [Float(0.9000006325), 0.8000010798, 0.7000014451]) { XCTAssertEqual(g, e, accuracy: 2e-6) }
  }

  /// A wide parameter (SIMD lanes and a scalar tail) moves exactly like one-element ones.
  func testVectorUpdateMatchesScalarUpdates() throws {
    let grads: [[Float]] = (0..<3).map { step in (0..<11).map { Float($0 - 5) * 0.1 + Float(step) * 0.03 } }
    let wide = Variable(Tensor(shape: [11], repeating: 1), requiresGrad: true)
    let adam = Adam(learningRate: 0.05)
    for g in grads {
      wide.grad = try Tensor(shape: [11], values: g)
      try adam.step([wide])
    }
    for i in 0..<11 {
      let alone = try trajectory(grads.map { $0[i] }, optimizer: Adam(learningRate: 0.05))
      XCTAssertEqual(wide.value[i], alone.last!, "element \(i)")
    }
  }

  /// Moments that would become subnormal are flushed to 0 (SIMD lanes and scalar tail alike),
  /// and a parameter split over threads (more than 16K values) moves like a one-element one.
  func testSubnormalMomentsFlushAndLargeTensorsSplit() throws {
    let n = 40_003
    let p = Variable(Tensor(shape: [n], repeating: 1), requiresGrad: true)
    let adam = Adam()
    let tiny = Float.leastNormalMagnitude * 1.05
    try adam.restore(
      OptimizerState(
        iterations: 10, slots: ["m": [Tensor(shape: [n], repeating: tiny)], "v": [Tensor(shape: [n], repeating: tiny)]]),
      parameters: [p])
    p.grad = Tensor(zeros: [n])
    try adam.step([p])
    let state = adam.state()
    XCTAssertEqual(state.slots["m"]![0].scalars, [Float](repeating: 0, count: n))
    XCTAssertEqual(state.slots["v"]![0].scalars, [Float](repeating: tiny * 0.999, count: n), "still normal: kept")

    let big = Variable(Tensor(shape: [n], repeating: 1), requiresGrad: true)
    let split = Adam(learningRate: 0.05)
    big.grad = Tensor(shape: [n], repeating: 0.3)
    try split.step([big])
    let alone = try trajectory([0.3], optimizer: Adam(learningRate: 0.05))
    XCTAssertEqual(big.value.scalars, [Float](repeating: alone[0], count: n))
  }

  func testKerasDefaults() {
    let a = Adam()
    XCTAssertEqual(a.learningRate, 0.001)
    XCTAssertEqual(a.beta1, 0.9)
    XCTAssertEqual(a.beta2, 0.999)
    XCTAssertEqual(a.epsilon, 1e-7)
  }

  func testStateRestoreContinuesExactly() throws {
    let grads: [Float] = [0.3, -0.1, 0.7, 0.2, -0.4]
    let straight = try trajectory(grads, optimizer: Adam())
    // Run two steps, move the state to a new optimizer, run the rest.
    let a = Adam()
    let p = Variable(Tensor(shape: [1], repeating: 1), requiresGrad: true)
    for g in grads.prefix(2) {
      p.grad = Tensor(shape: [1], repeating: g)
      try a.step([p])
    }
    let b = Adam()
    try b.restore(a.state(), parameters: [p])
    XCTAssertEqual(b.iterations, 2)
    for g in grads.dropFirst(2) {
      p.grad = Tensor(shape: [1], repeating: g)
      try b.step([p])
    }
    XCTAssertEqual(p.value[0], straight.last!)
  }

  func testRestoreRejectsMismatchedState() {
    let p = Variable(Tensor(zeros: [2, 3]), requiresGrad: true)
    let state = OptimizerState(iterations: 1, slots: ["m": [Tensor(zeros: [3, 2])], "v": [Tensor(zeros: [3, 2])]])
    XCTAssertThrowsError(try Adam().restore(state, parameters: [p]))
  }

  func testSGDWithMomentum() throws {
    // v1 = -0.1*1 = -0.1, p = 0.9; v2 = 0.5*-0.1 - 0.1*1 = -0.15, p = 0.75.
    let got = try trajectory([1, 1], optimizer: SGD(learningRate: 0.1, momentum: 0.5))
    XCTAssertEqual(got[0], 0.9, accuracy: 1e-6)
    XCTAssertEqual(got[1], 0.75, accuracy: 1e-6)
  }
}
