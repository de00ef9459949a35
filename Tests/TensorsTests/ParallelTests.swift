import Foundation
import Synchronization
import Tensors
import XCTest

final class ParallelTests: XCTestCase {
  private var savedThreads = 1

  override func setUp() { savedThreads = Threads.count }
  override func tearDown() { Threads.count = savedThreads }

  /// Runs parallelFor and returns how many times each chunk ran and on which threads.
  private func run(_ chunks: Int, work: (Int) -> Void = { _ in }) -> (counts: [Int], threads: Set<UInt>) {
    let lock = NSLock()
    var counts = [Int](repeating: 0, count: chunks)
    var threads = Set<UInt>()
    parallelFor(chunks) { i in
      work(i)
      lock.lock()
      counts[i] += 1
      threads.insert(UInt(pthread_self()))
      lock.unlock()
    }
    return (counts, threads)
  }

  /// Every chunk runs exactly once, loop after loop, for chunk counts below, at and above
  /// the number of threads.
  func testEveryChunkRunsOnce() {
    Threads.count = 2
    for round in 0..<50 {
      for chunks in [0, 1, 2, 3, 17, 256] {
        XCTAssertEqual(run(chunks).counts, [Int](repeating: 1, count: chunks), "round \(round), \(chunks) chunks")
      }
    }
  }

  /// With two threads the helper joins in: slow chunks end up on two threads.
  func testTheHelperThreadTakesChunks() throws {
    try XCTSkipIf(Threads.available < 2, "needs two cores")
    Threads.count = 2
    let result = run(20) { _ in usleep(2000) }
    XCTAssertEqual(result.counts, [Int](repeating: 1, count: 20))
    XCTAssertEqual(result.threads.count, 2)
  }

  /// A helper that went to sleep after polling (idle for longer than it polls) wakes for the
  /// next loop, loop after loop.
  func testASleepingHelperWakesForTheNextLoop() throws {
    try XCTSkipIf(Threads.available < 2, "needs two cores")
    Threads.count = 2
    for round in 0..<3 {
      usleep(20_000)
      let result = run(20) { _ in usleep(2000) }
      XCTAssertEqual(result.counts, [Int](repeating: 1, count: 20))
      XCTAssertEqual(result.threads.count, 2, "round \(round)")
    }
  }

  /// With one thread every chunk runs on the calling thread, in order.
  func testOneThreadRunsInOrderOnTheCaller() {
    Threads.count = 1
    var order: [Int] = []
    let caller = pthread_self()
    var elsewhere = 0
    parallelFor(10) { i in
      order.append(i)
      if pthread_equal(pthread_self(), caller) == 0 { elsewhere += 1 }
    }
    XCTAssertEqual(order, Array(0..<10))
    XCTAssertEqual(elsewhere, 0)
  }

  /// A loop inside a chunk runs on that chunk's thread, and all of it runs.
  func testNestedLoopsComplete() {
    Threads.count = 2
    let lock = NSLock()
    var inner = [Int](repeating: 0, count: 8 * 5)
    parallelFor(8) { i in
      parallelFor(5) { j in
        lock.lock()
        inner[i * 5 + j] += 1
        lock.unlock()
      }
    }
    XCTAssertEqual(inner, [Int](repeating: 1, count: 40))
  }

  /// Loops started from several threads at once each run all of their chunks.
  func testConcurrentCallersEachRunTheirChunks() {
    Threads.count = 2
    let totals = Mutex([Int](repeating: 0, count: 4))
    DispatchQueue.concurrentPerform(iterations: 4) { caller in
      for _ in 0..<20 {
        parallelFor(50) { _ in totals.withLock { $0[caller] += 1 } }
      }
    }
    XCTAssertEqual(totals.withLock { $0 }, [1000, 1000, 1000, 1000])
  }

  /// More chunks than the pool's loop word can count still run once each.
  func testMoreChunksThanOneLoopCounts() {
    Threads.count = 2
    let chunks = (1 << 20) + 5
    let hits = UnsafeMutablePointer<UInt8>.allocate(capacity: chunks)
    defer { hits.deallocate() }
    hits.initialize(repeating: 0, count: chunks)
    parallelFor(chunks) { hits[$0] &+= 1 }
    var wrong = 0
    for i in 0..<chunks where hits[i] != 1 { wrong += 1 }
    XCTAssertEqual(wrong, 0)
  }
}
