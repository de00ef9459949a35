import Foundation
import Tensors
import XCTest

final class SliceQueueTests: XCTestCase {
  /// Distinct fake packed-B pointers, one per slice.
  private func packs(_ count: Int) -> [UnsafeMutablePointer<Float>] {
    (0..<count).map { UnsafeMutablePointer<Float>(bitPattern: 64 * ($0 + 1))! }
  }

  /// Slices go out in order, each once; a slice's row blocks go out in order, each once; once
  /// every slice is taken, the row blocks left go out from the slice with the most left, with
  /// that slice's packed B.
  func testHandsOutEverythingOnceInOrder() {
    let queue = SliceQueue(slices: 2, rowBlocks: 3)
    let p = packs(2)
    XCTAssertEqual(queue.takeSlice(), 0)
    queue.packed(0, p[0])
    XCTAssertEqual(queue.takeRowBlock(of: 0), 0)
    XCTAssertEqual(queue.takeSlice(), 1)
    queue.packed(1, p[1])
    XCTAssertEqual(queue.takeRowBlock(of: 1), 0)
    XCTAssertEqual(queue.takeRowBlock(of: 1), 1)
    XCTAssertNil(queue.takeSlice())
    var stolen = [String]()
    while let (s, rb, pack) = queue.stealRowBlock() {
      stolen.append("\(s).\(rb)")
      XCTAssertEqual(pack, UnsafePointer(p[s]), "slice \(s)'s own packed B")
    }
    XCTAssertEqual(stolen, ["0.1", "0.2", "1.2"])
    XCTAssertNil(queue.takeRowBlock(of: 0))
    XCTAssertNil(queue.takeRowBlock(of: 1))
  }

  /// Nothing to hand out: no slice, no row block.
  func testEmptyQueue() {
    let queue = SliceQueue(slices: 0, rowBlocks: 4)
    XCTAssertNil(queue.takeSlice())
    XCTAssertNil(queue.stealRowBlock())
  }

  /// What the threads of a test ran, under a lock.
  private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var entries = [(slice: Int, rowBlock: Int, stolen: Bool, rightPack: Bool)]()

    func add(_ slice: Int, _ rowBlock: Int, stolen: Bool, rightPack: Bool = true) {
      lock.lock()
      entries.append((slice, rowBlock, stolen, rightPack))
      lock.unlock()
    }

    var all: [(slice: Int, rowBlock: Int, stolen: Bool, rightPack: Bool)] {
      lock.lock()
      defer { lock.unlock() }
      return entries
    }
  }

  /// A thread with no slice left waits for a slice still being packed and then shares its
  /// row blocks, rather than finishing while that slice has row blocks left.
  func testWaitsForASliceBeingPacked() {
    let queue = SliceQueue(slices: 1, rowBlocks: 4)
    let p = packs(1)
    XCTAssertEqual(queue.takeSlice(), 0)
    let done = DispatchSemaphore(value: 0)
    let tally = Tally()
    Thread.detachNewThread {
      while let (s, rb, _) = queue.stealRowBlock() { tally.add(s, rb, stolen: true) }
      done.signal()
    }
    Thread.sleep(forTimeInterval: 0.05)  // "packing", while the other thread has nothing to take
    queue.packed(0, p[0])
    if let rb = queue.takeRowBlock(of: 0) { tally.add(0, rb, stolen: false) }
    Thread.sleep(forTimeInterval: 0.2)  // a slow row block: the other thread takes the rest
    while let rb = queue.takeRowBlock(of: 0) { tally.add(0, rb, stolen: false) }
    done.wait()
    XCTAssertTrue(tally.all.contains { $0.stolen }, "the other thread finished without waiting for the packing")
    XCTAssertEqual(tally.all.map(\.rowBlock).sorted(), [0, 1, 2, 3])
  }

  /// Two threads running the GEMM's loop over a queue run every row block of every slice
  /// exactly once, each with its slice's packed B, whichever thread is slower; and the faster
  /// thread takes over some of the slower one's row blocks.
  func testTwoThreadsRunEveryRowBlockOnce() {
    var stolen = 0
    for round in 0..<10 {
      let (slices, rowBlocks) = (7, 5)
      let queue = SliceQueue(slices: slices, rowBlocks: rowBlocks)
      let p = packs(slices).map { UInt(bitPattern: $0) }
      let tally = Tally()
      @Sendable func worker(slow: Bool) {
        func run(_ s: Int, _ rb: Int, _ pack: UnsafePointer<Float>, stealing: Bool) {
          usleep(slow ? 10_000 : 200)
          tally.add(s, rb, stolen: stealing, rightPack: UInt(bitPattern: pack) == p[s])
        }
        while let s = queue.takeSlice() {
          let pack = UnsafeMutablePointer<Float>(bitPattern: p[s])!
          queue.packed(s, pack)
          while let rb = queue.takeRowBlock(of: s) { run(s, rb, pack, stealing: false) }
        }
        while let (s, rb, pack) = queue.stealRowBlock() { run(s, rb, pack, stealing: true) }
      }
      let done = DispatchSemaphore(value: 0)
      Thread.detachNewThread {
        worker(slow: round % 2 == 0)
        done.signal()
      }
      worker(slow: round % 2 == 1)
      done.wait()
      let runs = tally.all
      XCTAssertEqual(
        runs.map { $0.slice * rowBlocks + $0.rowBlock }.sorted(), Array(0..<(slices * rowBlocks)), "round \(round)")
      XCTAssertTrue(runs.allSatisfy(\.rightPack), "round \(round)")
      stolen += runs.filter(\.stolen).count
    }
    XCTAssertGreaterThan(stolen, 0, "the fast thread never took any of the slow one's row blocks")
  }
}
