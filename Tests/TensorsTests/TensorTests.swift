import Tensors
import XCTest

final class TensorTests: XCTestCase {
  func testShapesAndValues() throws {
    let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(t.count, 6)
    XCTAssertEqual(t.argmaxRows(), [2, 2])
    XCTAssertEqual(t.sum(), 21)
    let r = try t.reshaped(to: [3, 2])
    r[0] = 10
    XCTAssertEqual(t[0], 10, "a reshape is a view")
    XCTAssertEqual(t.copy().scalars, t.scalars)
    XCTAssertThrowsError(try t.reshaped(to: [4, 2]))
    XCTAssertThrowsError(try Tensor(shape: [2, 2], values: [1, 2, 3]))
    XCTAssertThrowsError(try Tensor(shape: [-2, 2], values: [1, 2, 3, 4])) {
      XCTAssertTrue("\($0)".contains("negative dimension"), "\($0)")
    }
    XCTAssertThrowsError(try t.reshaped(to: [-1, -6]))
    XCTAssertEqual(try Tensor(shape: [0, 4], values: []).count, 0)
    XCTAssertEqual(Tensor(zeros: [0, 3]).count, 0)
  }

  func testFreedBuffersAreReused() {
    var first: Tensor? = Tensor(zeros: [5000])
    let pointer = first!.data
    first![3] = 7
    first = nil
    let second = Tensor(zeros: [5000])
    XCTAssertEqual(second.data, pointer, "the freed buffer of the same size is taken again")
    XCTAssertEqual(second[3], 0, "and zeroed")
    StoragePool.drain()
  }

  /// Buffers of 2 MiB or more start on a 2 MiB boundary, where huge pages can back them;
  /// smaller ones on a cache line.
  func testLargeBuffersAreHugePageAligned() {
    let big = Tensor(zeros: [1 << 20])
    XCTAssertEqual(Int(bitPattern: big.data) % (2 << 20), 0)
    big[(1 << 20) - 1] = 3
    XCTAssertEqual(big.sum(), 3)
    let small = Tensor(zeros: [1000])
    XCTAssertEqual(Int(bitPattern: small.data) % 64, 0)
  }

  func testAddChecksShapes() throws {
    let a = Tensor(shape: [2, 2], repeating: 1)
    try a.add(Tensor(shape: [2, 2], repeating: 2))
    XCTAssertEqual(a.scalars, [3, 3, 3, 3])
    XCTAssertThrowsError(try a.add(Tensor(zeros: [4])))
  }

  func testSeededRandomIsReproducible() {
    var a = SeededRandom(seed: 42)
    var b = SeededRandom(seed: 42)
    var c = SeededRandom(seed: 43)
    let x = (0..<100).map { _ in a.next() }
    XCTAssertEqual(x, (0..<100).map { _ in b.next() })
    XCTAssertNotEqual(x, (0..<100).map { _ in c.next() })
    var saved = SeededRandom(state: a.state)
    XCTAssertEqual(saved.next(), a.next(), "restoring the state continues the sequence")
    for _ in 0..<1000 {
      let f = a.nextFloat()
      XCTAssertTrue(f >= 0 && f < 1)
      XCTAssertTrue((0..<7).contains(a.nextInt(below: 7)))
    }
    let p = a.permutation(50)
    XCTAssertEqual(p.sorted(), Array(0..<50))
    XCTAssertNotEqual(p, Array(0..<50))
  }

  func testGlorotUniformLimitsAndFans() {
    var rng = SeededRandom(seed: 1)
    XCTAssertTrue(Tensor.fans(ofKernel: [3, 3, 32, 64]) == (288, 576))
    XCTAssertTrue(Tensor.fans(ofKernel: [2304, 64]) == (2304, 64))
    let t = Tensor.glorotUniform(shape: [100, 50], fanIn: 100, fanOut: 50, using: &rng)
    let limit = (6.0 / 150.0 as Float).squareRoot()
    XCTAssertTrue(t.scalars.allSatisfy { abs($0) <= limit })
    XCTAssertEqual(Double(t.sum()) / Double(t.count), 0, accuracy: 0.01)
    XCTAssertGreaterThan(t.max(), 0.95 * limit)
  }
}
