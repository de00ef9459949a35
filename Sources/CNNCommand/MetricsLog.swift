import CNN
import Foundation
import Tensors

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The JSON-lines metrics log of `cnn train`: one object per finished epoch.

/// A new run empties the log (or creates it) at its first save.
func startLog(_ path: String) throws {
  do {
    close(try openForWriting(path, flags: O_CREAT | O_TRUNC, what: "the metrics log"))
  } catch let error as TensorError {
    throw CommandError(.failure, error.message)
  }
}

/// A resumed run makes the log agree with its checkpoint: lines of epochs after the
/// checkpoint's are dropped (they will be trained again), so are lines that are not whole
/// (a write cut short), and the checkpoint's own epoch line, which the checkpoint keeps, is
/// written back if the log lost it (deleted, or a failed write). A log that is not a regular
/// file (a device, a pipe) is left alone.
func repairLog(_ path: String, upTo epoch: Int, savedLine: String?) throws {
  var lines: [String] = []
  var unterminated = false
  switch pathKind(path) {
  case .file:
    let text = String(decoding: try readFile(path, what: "the metrics log", limit: 1 << 30), as: UTF8.self)
    lines = text.split(separator: "\n").map(String.init)
    unterminated = !text.isEmpty && !text.hasSuffix("\n")
  case .unreachable(_, let missing) where missing: break
  default: return
  }
  var repaired = lines.filter { lineEpoch($0).map { $0 <= epoch } ?? false }
  let dropped = lines.count - repaired.count
  var restored = false
  if let savedLine, lineEpoch(savedLine) == epoch, !repaired.contains(where: { lineEpoch($0) == epoch }) {
    repaired.append(savedLine)
    restored = true
  }
  guard dropped > 0 || restored || unterminated || pathKind(path) != .file else { return }
  try writeAtomically(Array(repaired.map { $0 + "\n" }.joined().utf8), to: path, what: "the metrics log")
  if dropped > 0 {
    print("Metrics log: dropped \(dropped) line(s) of epochs after \(epoch) (trained again) or cut short")
  }
  if restored { print("Metrics log: wrote back epoch \(epoch)'s line from the checkpoint") }
}

/// The `epoch` of one log line, nil if the line is not a JSON object with a whole-number epoch.
func lineEpoch(_ line: String) -> Int? {
  guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
  return (object["epoch"] as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }
}

/// Appends each epoch's line to the log, after the checkpoint that holds it is saved. A new
/// run's log is emptied at its first save, so that until then the log and the checkpoint of
/// an earlier run at these paths still belong together; a resumed run appends.
final class MetricsLogWriter: Callback {
  let path: String
  private var started: Bool

  init(path: String, continuing: Bool) {
    self.path = path
    started = continuing
  }

  func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws {
    do {
      if !started { try startLog(path) }
      started = true
      try appendToFile(Array((try metricsLine(result) + "\n").utf8), path: path, what: "the metrics log")
    } catch {
      throw CommandError(
        .failure, "\(error); epoch \(result.epoch) is saved with its metrics line, which --resume writes back")
    }
  }
}
