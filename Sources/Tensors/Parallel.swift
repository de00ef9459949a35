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

/// Runs `body(chunk)` for every chunk in 0..<chunks on up to `Threads.count` threads.
/// Worker w takes chunks w, w + T, w + 2T, ...: a static split, no shared counters.
@inline(__always)
public func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
  let threads = min(Threads.count, chunks)
  if threads <= 1 {
    for i in 0..<chunks { body(i) }
    return
  }
  DispatchQueue.concurrentPerform(iterations: threads) { w in
    var i = w
    while i < chunks {
      body(i)
      i += threads
    }
  }
}
