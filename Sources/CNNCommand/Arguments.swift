import CNN
import Foundation
import Tensors

/// What stops a command: one line on standard error and an exit status.
struct CommandError: Error, CustomStringConvertible {
  enum Kind {
    /// A wrong command line: printed with a hint to --help, exit status 2.
    case usage
    /// A failure while running (unreadable data, a full disk ...): exit status 1.
    case failure
    /// Processes of one job that do not match, found by every process alike: process 0
    /// reports it, the others exit.
    case disagreement
  }
  let kind: Kind
  let message: String

  init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  var status: Int32 { kind == .usage ? 2 : 1 }
  var description: String { message }
}

/// `--name value` and `--name=value` options and bare `--flag`s, checked against what a
/// command accepts.
struct Arguments {
  private var values: [String: String] = [:]
  private var flags: Set<String> = []

  init(_ args: [String], options: Set<String>, flags allowedFlags: Set<String>) throws {
    var i = 0
    while i < args.count {
      let arg = args[i]
      guard arg.hasPrefix("--"), arg.count > 2 else {
        throw CommandError(.usage, "unexpected argument \(quoted(arg))")
      }
      var name = String(arg.dropFirst(2))
      var value: String?
      if let eq = name.firstIndex(of: "=") {
        value = String(name[name.index(after: eq)...])
        name = String(name[..<eq])
      }
      if allowedFlags.contains(name) {
        guard value == nil else { throw CommandError(.usage, "--\(name) takes no value") }
        guard !flags.contains(name) else { throw CommandError(.usage, "--\(name) is given twice") }
        flags.insert(name)
      } else if options.contains(name) {
        if value == nil {
          i += 1
          guard i < args.count, !(args[i].hasPrefix("--") && args[i].count > 2) else {
            throw CommandError(.usage, "--\(name) needs a value")
          }
          value = args[i]
        }
        guard values[name] == nil else { throw CommandError(.usage, "--\(name) is given twice") }
        values[name] = value
      } else {
        throw CommandError(.usage, "unknown option \(quoted("--" + name))")
      }
      i += 1
    }
  }

  func flag(_ name: String) -> Bool { flags.contains(name) }

  func string(_ name: String) -> String? { values[name] }

  func int(_ name: String, default d: Int, in range: ClosedRange<Int>) throws -> Int {
    guard let s = values[name] else { return d }
    guard isPlainDecimal(s, fraction: false), let v = Int(s) else {
      throw CommandError(.usage, "--\(name) expects a whole number, got \(quoted(s))")
    }
    guard range.contains(v) else {
      throw CommandError(.usage, "--\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(v)")
    }
    return v
  }

  func optionalInt(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
    values[name] == nil ? nil : try int(name, default: 0, in: range)
  }

  func float(_ name: String, default d: Float, above low: Float, atMost high: Float) throws -> Float {
    guard let s = values[name] else { return d }
    guard isPlainDecimal(s), let v = Float(s), v.isFinite else {
      throw CommandError(.usage, "--\(name) expects a number, got \(quoted(s))")
    }
    guard v > low, v <= high else {
      throw CommandError(.usage, "--\(name) must be above \(low) and at most \(high), got \(s)")
    }
    return v
  }

  func double(_ name: String, default d: Double, above low: Double, atMost high: Double) throws -> Double {
    guard let s = values[name] else { return d }
    guard isPlainDecimal(s), let v = Double(s), v.isFinite else {
      throw CommandError(.usage, "--\(name) expects a number, got \(quoted(s))")
    }
    guard v > low, v <= high else {
      throw CommandError(
        .usage,
        "--\(name) must be above \(String(format: "%g", low)) and at most \(String(format: "%g", high)), got \(s)")
    }
    return v
  }

  func seed(_ name: String = "seed") throws -> UInt64 {
    guard let s = values[name] else { return 0 }
    guard isPlainDecimal(s, fraction: false), let v = UInt64(s) else {
      throw CommandError(.usage, "--\(name) expects a whole number from 0 to \(UInt64.max), got \(quoted(s))")
    }
    return v
  }

  /// --model: a name from the zoo (default `seed`); any other name is a command-line error.
  func model() throws -> String {
    let name = values["model"] ?? "seed"
    guard Zoo.names.contains(name) else {
      throw CommandError(.usage, "unknown model \(quoted(name)); choose one of: \(Zoo.names.joined(separator: ", "))")
    }
    return name
  }

  /// --pooling (default max) with --pooling-k for avgtopk and --pooling-p for lp: the zoo
  /// model's pooling layers. `recorded`, a checkpoint's choice, is the default when given.
  func pooling(recorded: PoolingChoice? = nil) throws -> PoolingChoice {
    let name = values["pooling"]
    if let name, !PoolingChoice.names.contains(name) {
      throw CommandError(
        .usage, "unknown pooling \(quoted(name)); choose one of: \(PoolingChoice.names.joined(separator: ", "))")
    }
    let kind = name ?? recorded.map { "\($0)".prefix { $0 != "(" } }.map(String.init) ?? "max"
    if values["pooling-k"] != nil && kind != "avgtopk" {
      throw CommandError(.usage, "--pooling-k goes with --pooling avgtopk")
    }
    if values["pooling-p"] != nil && kind != "lp" { throw CommandError(.usage, "--pooling-p goes with --pooling lp") }
    if name == nil, let recorded, values["pooling-k"] == nil, values["pooling-p"] == nil { return recorded }
    let k = try int("pooling-k", default: 2, in: 1...4)
    let p = try float("pooling-p", default: 2, above: 0, atMost: 100)
    return PoolingChoice(name: kind, k: k, p: p)!
  }

  /// --threads: 1 up to the cores of this machine.
  func threads() throws -> Int {
    try int("threads", default: Threads.available, in: 1...Threads.available)
  }
}

/// Whether `text` is a number as a person writes it: an optional sign, digits, and with
/// `fraction` a decimal point with digits on at least one side ("3", "-2", "0.5", ".5", "2.").
/// Exponents ("1e3"), hexadecimal ("0x10"), "inf" and "nan", which Swift's parsers accept, are not.
func isPlainDecimal<S: StringProtocol>(_ text: S, fraction: Bool = true) -> Bool {
  var digits = 0
  var points = 0
  for (i, c) in text.utf8.enumerated() {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
    case UInt8(ascii: "."): points += 1
    case UInt8(ascii: "-"), UInt8(ascii: "+"): if i != 0 { return false }
    default: return false
    }
  }
  return digits > 0 && points <= (fraction ? 1 : 0)
}

/// Where the CIFAR-10 batches are: --data, else $CIFAR10_DIR, else Datasets/cifar-10-batches-bin.
func dataDirectory(_ args: Arguments) -> String {
  args.string("data") ?? ProcessInfo.processInfo.environment["CIFAR10_DIR"] ?? "Datasets/cifar-10-batches-bin"
}
