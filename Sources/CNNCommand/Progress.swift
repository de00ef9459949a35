import CNN
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The library's progress bar, writing through the command's output (which notices a lost
/// standard output), and hooks run before each epoch and after each epoch's line.
final class ProgressPrinter: TrainingObserver {
  private let bar = ProgressBar(write: writeOut)
  var onEpochBegin: ((Int) -> Void)?
  var onEpochEnd: ((EpochResult) throws -> Void)?

  func epochBegan(_ epoch: Int, of epochs: Int, batches: Int) {
    onEpochBegin?(epoch)
    bar.epochBegan(epoch, of: epochs, batches: batches)
  }

  func batchEnded(_ batch: Int, of batches: Int, loss: Double, accuracy: Double, seconds: Double) {
    bar.batchEnded(batch, of: batches, loss: loss, accuracy: accuracy, seconds: seconds)
  }

  func epochEnded(_ result: EpochResult) throws {
    try bar.epochEnded(result)
    try onEpochEnd?(result)
  }
}

func f4(_ x: Double) -> String { String(format: "%.4f", x) }

/// Set by SIGINT (Ctrl-C): training stops before its next batch.
final class InterruptFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var raised = false
  private var source: DispatchSourceSignal?

  func install() {
    signal(SIGINT, SIG_IGN)
    let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    s.setEventHandler { [weak self] in
      guard let self else { return }
      self.lock.lock()
      let second = self.raised
      self.raised = true
      self.lock.unlock()
      if second { exit(130) }
      printToStandardError("\ninterrupt: stopping after this batch (Ctrl-C again to quit now)")
    }
    s.resume()
    source = s
  }

  var isRaised: Bool {
    lock.lock()
    defer { lock.unlock() }
    return raised
  }
}
