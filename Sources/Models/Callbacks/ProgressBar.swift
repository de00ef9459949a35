// C's `stdout` is a global variable Swift 6 cannot check; it is written from one thread only.
@preconcurrency import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Keras-style progress for `fit`: on a terminal one bar redrawn in place
/// (`312/1563 [=====>....] - ETA: 20s - loss: 1.4123 - accuracy: 0.4871`); otherwise plain
/// lines at every fifth of the epoch; then one line per epoch with test metrics and images/s.
/// `fit(verbose: true)` uses one; pass your own among the callbacks to choose where it writes.
public final class ProgressBar: Callback {
  /// Whether to redraw one line in place (a terminal) rather than print lines.
  public let interactive: Bool
  private let write: (String) -> Void
  private var lastDraw = Date.distantPast

  /// `write` receives text to append to the output (lines end in "\n"); by default standard
  /// output, redrawn in place when it is a terminal.
  public init(interactive: Bool? = nil, write: ((String) -> Void)? = nil) {
    self.interactive = interactive ?? (isatty(STDOUT_FILENO) == 1)
    self.write =
      write ?? { text in
        fputs(text, stdout)
        fflush(stdout)
      }
  }

  public func epochBegan(_ context: TrainingContext) throws {
    write("Epoch \(context.epoch)/\(context.epochs)\n")
  }

  public func batchEnded(_ context: TrainingContext, _ progress: BatchProgress) throws {
    draw(progress)
  }

  /// Draws (or prints) the bar for `progress`.
  public func draw(_ progress: BatchProgress) {
    let (loss, accuracy, seconds) = (progress.loss, progress.accuracy, progress.seconds)
    let batches = max(1, progress.batches)
    let batch = min(max(1, progress.batch), batches)
    let done = batch == batches
    let remaining = seconds / Double(batch) * Double(batches - batch)
    let eta = "ETA: \(remaining.isFinite ? Int(remaining.rounded()) : 0)s"
    let metrics = "loss: \(f4(loss)) - accuracy: \(f4(accuracy))"
    if interactive {
      guard done || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
      lastDraw = Date()
      let w = 30
      let filled = batches == 0 ? w : w * batch / batches
      let bar =
        String(repeating: "=", count: max(0, filled - (done ? 0 : 1))) + (done ? "" : ">")
        + String(repeating: ".", count: w - filled)
      let timing =
        done ? "\(whole(seconds))s \(whole(seconds / Double(batches) * 1000))ms/step" : eta
      write("\r\(pad(batch, batches))/\(batches) [\(bar)] - \(timing) - \(metrics)" + (done ? "" : "\u{1B}[K"))
    } else {
      let step = max(1, batches / 5)
      guard batch % step == 0 || done else { return }
      write("\(pad(batch, batches))/\(batches) - \(done ? "\(whole(seconds))s" : eta) - \(metrics)\n")
    }
  }

  public func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws {
    write(line(for: result))
  }

  /// The line that ends an epoch (on a terminal, the rest of the bar's line).
  public func line(for result: EpochResult) -> String {
    var line = interactive ? "" : "epoch \(result.epoch)"
    for (name, value) in (result.metrics ?? [:]).sorted(by: { $0.key < $1.key }) { line += " - \(name): \(f4(value))" }
    if let tl = result.testLoss, let ta = result.testAccuracy {
      line += " - test_loss: \(f4(tl)) - test_accuracy: \(f4(ta))"
    }
    for (name, value) in (result.testMetrics ?? [:]).sorted(by: { $0.key < $1.key }) {
      line += " - test_\(name): \(f4(value))"
    }
    return line + " - \(whole(result.imagesPerSecond)) images/s\n"
  }

  private func pad(_ n: Int, _ total: Int) -> String {
    let s = String(n)
    return String(repeating: " ", count: max(0, String(total).count - s.count)) + s
  }

  private func f4(_ x: Double) -> String { String(format: "%.4f", x) }

  /// A non-negative whole number of x, 0 for what is not finite.
  private func whole(_ x: Double) -> Int { x.isFinite && x > 0 && x < 1e15 ? Int(x.rounded()) : 0 }
}
