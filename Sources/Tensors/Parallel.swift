import Dispatch
import Foundation
import Synchronization

/// How many threads the kernels use. Work is always cut into the same chunks whatever this
/// is, and each chunk is summed in a fixed order, so results do not depend on it.
package enum Threads {
  private static let _count = Atomic<Int>(max(1, ProcessInfo.processInfo.activeProcessorCount))

  package static var count: Int {
    get { _count.load(ordering: .relaxed) }
    set { _count.store(max(1, newValue), ordering: .relaxed) }
  }

  package static var available: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// How many threads the framework computes on: all cores by default. Results do not depend
/// on it (work is cut by shape, and every sum runs in a fixed order); fewer threads leave
/// cores to other work, since helper threads poll briefly between parallel loops.
public enum Parallelism {
  /// Threads to use, at least 1.
  public static var threads: Int {
    get { Threads.count }
    set { Threads.count = newValue }
  }

  /// The cores this process may run on.
  public static var availableCores: Int { Threads.available }
}

/// Runs `body(chunk)` for every chunk in 0..<chunks on up to `Threads.count` threads: the
/// calling thread and the helpers of `WorkerPool`. Each thread takes the next chunk not yet
/// taken, so a thread that wakes late or runs slow does fewer; what a chunk computes never
/// depends on which thread runs it. A call made while the pool is busy (from inside a chunk,
/// or from a second thread) runs its chunks on the calling thread.
@inline(__always)
package func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
  let threads = min(Threads.count, chunks)
  if threads <= 1 {
    for i in 0..<chunks { body(i) }
    return
  }
  withoutActuallyEscaping(body) { body in
    let pool = WorkerPool.shared
    // More chunks than the pool counts run in contiguous groups.
    let group = (chunks + WorkerPool.maxChunks - 1) / WorkerPool.maxChunks
    let ran =
      group == 1
      ? pool.run(chunks, helpers: threads - 1, body)
      : pool.run((chunks + group - 1) / group, helpers: threads - 1) { g in
        for i in (g * group)..<min(chunks, (g + 1) * group) { body(i) }
      }
    if !ran {
      for i in 0..<chunks { body(i) }
    }
  }
}

/// Helper threads that stay awake between parallel loops. A training step runs about ten
/// parallel loops a few hundred microseconds apart, and a helper woken from sleep for each
/// starts late by a good part of the loop. So a helper spins for a while after each loop
/// (`spinNanoseconds`) and only then sleeps.
///
/// Unchecked: a loop's body captures raw pointers to the ranges its chunks write, so it is
/// not `Sendable`; the owner publishes it before the loop's word (sequentially consistent)
/// and clears it only after every helper has left the loop, which Swift cannot see.
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool(helpers: max(0, Threads.available - 1))

  /// How long an idle helper keeps polling for the next loop before it sleeps.
  static let spinNanoseconds: UInt64 = 2_000_000

  // The current loop in one word, so that a helper claims a chunk of exactly the loop it saw:
  // generation (16 bits) | helpers wanted (8) | chunks (20) | next chunk (20).
  private let word = Atomic<UInt64>(0)
  /// Helpers between taking their first chunk of a loop and finding the loop done.
  private let running = Atomic<Int>(0)
  /// Whether a caller owns the pool.
  private let owned = Atomic<Bool>(false)
  private let sleepers = Atomic<Int>(0)
  private let wake = NSCondition()
  /// The current loop's body; written only while no helper runs one.
  nonisolated(unsafe) private var body: ((Int) -> Void)?
  private let helperCount: Int
  private var started = false
  private var generation: UInt64 = 0

  private static let fieldBits: UInt64 = 20
  private static let fieldMask: UInt64 = (1 << fieldBits) - 1
  private static let helpersShift: UInt64 = 40
  private static let generationShift: UInt64 = 48
  static let maxChunks = Int(fieldMask)

  init(helpers: Int) { helperCount = min(helpers, 255) }

  /// Whether a loop is running: a parallel call made now runs on the calling thread alone.
  var isBusy: Bool { owned.load(ordering: .relaxed) }

  /// Runs the loop with up to `helpers` helpers joining the calling thread; false (having
  /// run nothing) when the pool is busy or the loop does not fit in the word.
  func run(_ chunks: Int, helpers: Int, _ body: @escaping (Int) -> Void) -> Bool {
    guard helperCount > 0, chunks <= Self.maxChunks,
      owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { return false }
    defer { owned.store(false, ordering: .releasing) }
    if !started { startHelpers() }
    self.body = body
    generation = (generation + 1) & 0xFFFF
    let wanted = UInt64(min(helpers, helperCount))
    let loop = generation << Self.generationShift | wanted << Self.helpersShift | UInt64(chunks) << Self.fieldBits
    word.store(loop, ordering: .sequentiallyConsistent)
    if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
      wake.lock()
      wake.broadcast()
      wake.unlock()
    }
    while let i = claim(generation: generation) { body(i) }
    // Every chunk is taken: wait for helpers still running one.
    while running.load(ordering: .sequentiallyConsistent) > 0 {}
    self.body = nil
    return true
  }

  /// The next chunk of the loop of this generation, if any is left.
  @inline(__always)
  private func claim(generation: UInt64) -> Int? {
    var current = word.load(ordering: .sequentiallyConsistent)
    while true {
      let chunks = (current >> Self.fieldBits) & Self.fieldMask
      let next = current & Self.fieldMask
      guard current >> Self.generationShift == generation, next < chunks else { return nil }
      let (exchanged, original) = word.compareExchange(
        expected: current, desired: current + 1, ordering: .sequentiallyConsistent)
      if exchanged { return Int(next) }
      current = original
    }
  }

  private func startHelpers() {
    started = true
    // The loop a helper has seen is the last one before it was started: read here, before the
    // next is published, so that a helper starting late still joins that one.
    let seen = word.load(ordering: .sequentiallyConsistent) >> Self.generationShift
    for index in 0..<helperCount {
      let thread = Thread { [self] in helperLoop(index, seen: seen) }
      thread.name = "cnn-helper-\(index + 1)"
      thread.start()
    }
  }

  private func helperLoop(_ index: Int, seen start: UInt64) {
    var seen = start
    while true {
      let loop = waitForLoop(after: seen)
      seen = loop >> Self.generationShift
      guard (loop >> Self.helpersShift) & 0xFF > UInt64(index) else { continue }
      running.add(1, ordering: .sequentiallyConsistent)
      while let i = claim(generation: seen) { body!(i) }
      running.subtract(1, ordering: .sequentiallyConsistent)
    }
  }

  /// Polls for a loop of a generation other than `seen`, then sleeps until one comes.
  private func waitForLoop(after seen: UInt64) -> UInt64 {
    let start = DispatchTime.now().uptimeNanoseconds
    var polls = 0
    while true {
      let loop = word.load(ordering: .sequentiallyConsistent)
      if loop >> Self.generationShift != seen { return loop }
      polls += 1
      if polls & 1023 == 0 && DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds { break }
    }
    wake.lock()
    defer { wake.unlock() }
    sleepers.add(1, ordering: .sequentiallyConsistent)
    defer { sleepers.subtract(1, ordering: .sequentiallyConsistent) }
    while true {
      let loop = word.load(ordering: .sequentiallyConsistent)
      if loop >> Self.generationShift != seen { return loop }
      wake.wait()
    }
  }
}
