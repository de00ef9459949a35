import CNN
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

func f4(_ x: Double) -> String { String(format: "%.4f", x) }

/// Set by SIGINT (Ctrl-C): training stops before its next step, the last checkpoint kept;
/// a second Ctrl-C quits at once.
final class InterruptFlag: Callback {
  /// SIGINT is the process's: one flag for it.
  private static let raised = Atomic<Bool>(false)
  private let source: any DispatchSourceSignal

  init() {
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
      if InterruptFlag.raised.exchange(true, ordering: .relaxed) { exit(130) }
      printToStandardError("\ninterrupt: stopping after this batch (Ctrl-C again to quit now)")
    }
    source.resume()
  }

  func batchBegan(_ context: TrainingContext) throws {
    if InterruptFlag.raised.load(ordering: .relaxed) { throw TrainingError.interrupted(epoch: context.epoch) }
  }
}
