import Dispatch
import Foundation

/// How many threads the kernels use. Work is always cut into the same chunks whatever this
/// is, and each chunk is summed in a fixed order, so results do not depend on it.
public enum Threads {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var _count = max(1, ProcessInfo.processInfo.activeProcessorCount)

  public static var count: Int {
    get { lock.lock(); defer { lock.unlock() }; return _count }
    set { lock.lock(); _count = max(1, newValue); lock.unlock() }
  }

  public static var available: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// Runs `body(chunk)` for every chunk in 0..<chunks on up to `Threads.count` threads. Each
/// thread takes the next chunk not yet taken, so a thread that wakes late or runs slow does
/// fewer; what a chunk computes never depends on which thread runs it.
@inline(__always)
public func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
  let threads = min(Threads.count, chunks)
  if threads <= 1 {
    for i in 0..<chunks { body(i) }
    return
  }
  let next = ChunkCounter()
  DispatchQueue.concurrentPerform(iterations: threads) { _ in
    while true {
      let i = next.take()
      if i >= chunks { return }
      body(i)
    }
  }
}

/// The next chunk to run, shared by the threads of one `parallelFor`.
final class ChunkCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0

  func take() -> Int {
    lock.lock()
    defer { lock.unlock() }
    next += 1
    return next - 1
  }
}
