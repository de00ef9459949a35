import Autograd
import Tensors
import XCTest

final class TapeTests: XCTestCase {
  func testInferenceRecordsNothing() throws {
    let w = Variable(Tensor(shape: [3, 2], repeating: 0.5), requiresGrad: true)
    let y = try dense(Variable(Tensor(shape: [1, 3], repeating: 1)), kernel: w, bias: nil)
    XCTAssertNil(y.tape)
    XCTAssertFalse(y.requiresGrad)
  }

  func testRecordsOnlyOnTheInputsTape() throws {
    let tape = Tape()
    let x = tape.input(try Tensor(shape: [1, 3], values: [-1, 2, 3]), requiresGrad: true)
    let r = relu(x)
    let l = try weightedSum(r, weights: Tensor(shape: [1, 3], repeating: 2))
    XCTAssertTrue(r.tape === tape)
    XCTAssertEqual(tape.count, 2)
    try tape.backward(l)
    XCTAssertEqual(x.grad?.scalars, [0, 2, 2])
    XCTAssertEqual(tape.count, 0, "backward empties the tape")
    XCTAssertNil(r.grad, "intermediate gradients are released")
  }

  func testWeightsUsedTwiceAccumulate() throws {
    let tape = Tape()
    let x = tape.input(try Tensor(shape: [1, 2], values: [1, 2]))
    let w = Variable(try Tensor(shape: [2, 2], values: [1, 0, 0, 1]), requiresGrad: true)
    let h = try dense(x, kernel: w, bias: nil)
    let y = try dense(h, kernel: w, bias: nil)
    try tape.backward(try weightedSum(y, weights: Tensor(shape: [1, 2], repeating: 1)))
    // d/dW of 1ᵀ(xWW)1 with W = I: xᵀ(1ᵀW) + hᵀ1ᵀ = [[1,1],[2,2]] + [[1,1],[2,2]].
    XCTAssertEqual(w.grad?.scalars, [2, 2, 4, 4])
    XCTAssertNil(x.grad, "inputs without requiresGrad get no gradient")
  }

  func testBackwardNeedsScalar() throws {
    let tape = Tape()
    let x = tape.input(Tensor(zeros: [2, 2]), requiresGrad: true)
    XCTAssertThrowsError(try tape.backward(relu(x)))
  }

  func testReshapeGradientKeepsShape() throws {
    let tape = Tape()
    let x = tape.input(Tensor(zeros: [2, 3, 1, 2]), requiresGrad: true)
    let y = try reshape(x, to: [2, 6])
    try tape.backward(try weightedSum(y, weights: Tensor(shape: [2, 6], repeating: 1)))
    XCTAssertEqual(x.grad?.shape, [2, 3, 1, 2])
  }
}
