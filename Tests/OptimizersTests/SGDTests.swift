import Autograd
import Optimizers
import Tensors
import XCTest

/// SGD's Nesterov momentum and decoupled weight decay, and learning-rate schedules, against
/// hand-computed values.
final class SGDTests: XCTestCase {
  /// Gradient = the parameter (loss p²/2), from p = 1.
  func quadratic(_ optimizer: Optimizer, steps: Int) throws -> [Float] {
    let p = Variable(Tensor(shape: [1], repeating: 1), requiresGrad: true)
    return try (0..<steps).map { _ in
      p.grad = Tensor(shape: [1], repeating: p.value[0])
      try optimizer.step([p])
      return p.value[0]
    }
  }

  func testNesterovByHand() throws {
    // v1 = −0.1, p1 = 1 + 0.9·(−0.1) − 0.1 = 0.81; v2 = 0.9·(−0.1) − 0.081 = −0.171,
    // p2 = 0.81 + 0.9·(−0.171) − 0.081 = 0.5751.
    let got = try quadratic(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true), steps: 2)
    XCTAssertEqual(got[0], 0.81, accuracy: 1e-6)
    XCTAssertEqual(got[1], 0.5751, accuracy: 1e-6)
  }

  func testDecoupledWeightDecayByHand() throws {
    // p1 = 1 − 0.1·0.5·1 = 0.95, then − 0.1·1 (the gradient at the step's start) = 0.85.
    let got = try quadratic(SGD(learningRate: 0.1, weightDecay: 0.5), steps: 1)
    XCTAssertEqual(got[0], 0.85, accuracy: 1e-6)
  }

  func testPyTorchFormulationByHand() throws {
    // Loss p²/2 from p = 1, lr 0.1, momentum 0.9, Nesterov, coupled decay 0.5:
    // d1 = 1 + 0.5 = 1.5, v1 = 1.5, p1 = 1 − 0.1·(1.5 + 0.9·1.5) = 0.715;
    // d2 = 0.715·1.5 = 1.0725, v2 = 1.35 + 1.0725 = 2.4225, p2 = 0.715 − 0.1·(1.0725 + 2.18025) = 0.389725.
    let got = try quadratic(
      SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.5, formulation: .pytorch), steps: 2)
    XCTAssertEqual(got[0], 0.715, accuracy: 1e-6)
    XCTAssertEqual(got[1], 0.389725, accuracy: 1e-6)
    // With a learning-rate multiplier m = 4 the decay coefficient is 0.5/4, the step 4× the
    // rate: d1 = 1 + 0.125 = 1.125, v1 = 1.125, p1 = 1 − 0.4·1.125 = 0.55 (plain momentum).
    let p = Variable(Tensor(shape: [1], repeating: 1), requiresGrad: true)
    p.learningRateMultiplier = 4
    p.grad = Tensor(shape: [1], repeating: 1)
    try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.5, formulation: .pytorch).step([p])
    XCTAssertEqual(p.value[0], 0.55, accuracy: 1e-6)
  }

  func testFormulationsAgreeAtAConstantRate() throws {
    let keras = try quadratic(SGD(learningRate: 0.05, momentum: 0.8, nesterov: true), steps: 6)
    let pytorch = try quadratic(SGD(learningRate: 0.05, momentum: 0.8, nesterov: true, formulation: .pytorch), steps: 6)
    for (a, b) in zip(keras, pytorch) { XCTAssertEqual(a, b, accuracy: 1e-6) }
  }

  func testSchedulesByHand() throws {
    let triangle = LearningRateSchedule.piecewiseLinear([.init(0, 0.2), .init(0.23, 1), .init(1, 0.07)])
    XCTAssertEqual(triangle.factor(step: 0, totalSteps: 100), 0.2)
    XCTAssertEqual(triangle.factor(step: 23, totalSteps: 100), 1, accuracy: 1e-6)
    XCTAssertEqual(triangle.factor(step: 50, totalSteps: 100), 1 + 0.93 * Float(-27.0 / 77.0), accuracy: 1e-6)
    XCTAssertEqual(triangle.factor(step: 100, totalSteps: 100), 0.07, accuracy: 1e-6)
    let cosine = LearningRateSchedule.cosine(warmup: 0.1, final: 0)
    XCTAssertEqual(cosine.factor(step: 5, totalSteps: 100), 0.5, accuracy: 1e-6)
    XCTAssertEqual(cosine.factor(step: 10, totalSteps: 100), 1, accuracy: 1e-6)
    XCTAssertEqual(cosine.factor(step: 55, totalSteps: 100), 0.5, accuracy: 1e-6)
    XCTAssertEqual(cosine.factor(step: 100, totalSteps: 100), 0, accuracy: 1e-6)
    let step = LearningRateSchedule.step(every: 10, factor: 0.5)
    XCTAssertEqual([0, 9, 10, 25].map { step.factor(step: $0, totalSteps: 100) }, [1, 1, 0.5, 0.25])
    for bad: LearningRateSchedule in [
      .piecewiseLinear([]), .piecewiseLinear([.init(0.5, 1), .init(0.2, 1)]), .cosine(warmup: 2),
      .step(every: 0, factor: 0.5), .piecewiseLinear([.init(0, .nan)]),
    ] {
      XCTAssertThrowsError(try bad.validate(), "\(bad)")
    }
  }
}
