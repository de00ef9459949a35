import CNN
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Keras-style progress: on a terminal one bar redrawn in place
/// (`312/1563 [=====>....] - ETA: 20s - loss: 1.4123 - accuracy: 0.4871`); otherwise
/// plain lines at every fifth of the epoch, then one line per epoch with test metrics.
final class ProgressPrinter: TrainingObserver {
  let interactive = isatty(STDOUT_FILENO) == 1
  var lastDraw = Date.distantPast
  var onEpochEnd: ((EpochResult) throws -> Void)?

  func epochBegan(_ epoch: Int, of epochs: Int, batches: Int) {
    print("Epoch \(epoch)/\(epochs)")
  }

  func batchEnded(_ batch: Int, of batches: Int, loss: Double, accuracy: Double, seconds: Double) {
    let done = batch == batches
    if interactive {
      guard done || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
      lastDraw = Date()
      let w = 30
      let filled = batches == 0 ? w : w * batch / batches
      let bar =
        String(repeating: "=", count: max(0, filled - (done ? 0 : 1))) + (done ? "" : ">")
        + String(repeating: ".", count: w - filled)
      let eta = seconds / Double(batch) * Double(batches - batch)
      let timing =
        done
        ? "\(Int(seconds.rounded()))s \(Int((seconds / Double(batches) * 1000).rounded()))ms/step"
        : "ETA: \(Int(eta.rounded()))s"
      let line =
        "\(pad(batch, batches))/\(batches) [\(bar)] - \(timing) - loss: \(f4(loss)) - accuracy: \(f4(accuracy))"
      writeOut("\r" + line + (done ? "" : "\u{1B}[K"))
    } else {
      let step = max(1, batches / 5)
      guard batch % step == 0 || done else { return }
      let timing =
        done
        ? "\(Int(seconds.rounded()))s" : "ETA: \(Int((seconds / Double(batch) * Double(batches - batch)).rounded()))s"
      print("\(pad(batch, batches))/\(batches) - \(timing) - loss: \(f4(loss)) - accuracy: \(f4(accuracy))")
    }
  }

  func epochEnded(_ result: EpochResult) throws {
    var line = interactive ? "" : "epoch \(result.epoch)"
    if let tl = result.testLoss, let ta = result.testAccuracy {
      line += " - test_loss: \(f4(tl)) - test_accuracy: \(f4(ta))"
    }
    line += " - \(Int(result.imagesPerSecond.rounded())) images/s"
    print(line)
    try onEpochEnd?(result)
  }

  private func pad(_ n: Int, _ total: Int) -> String {
    let s = String(n)
    return String(repeating: " ", count: max(0, String(total).count - s.count)) + s
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
