import Foundation

/// One core's data caches, in bytes, from which the GEMM tiles its rows and columns
/// (`GEMMTiling`). Read once: Linux's `/sys/devices/system/cpu/cpu0/cache`, macOS's `sysctl`
/// (`hw.l1dcachesize`, `hw.l2cachesize`, `hw.l3cachesize`), and where neither answers,
/// `standard`. `CNN_CACHE` overrides any of the three, as in `CNN_CACHE=l2=512K` or
/// `CNN_CACHE=l1=48K,l2=2M,l3=32M`, to run one machine's tiling on another.
package struct CacheSizes: Equatable, Sendable {
  package var l1: Int
  package var l2: Int
  package var l3: Int
  /// Where the sizes came from: "sysfs", "sysctl", "default", with "CNN_CACHE" when it
  /// overrode them, or why it was ignored.
  package var source: String

  package init(l1: Int, l2: Int, l3: Int, source: String) {
    (self.l1, self.l2, self.l3, self.source) = (l1, l2, l3, source)
  }

  /// The caches the tiling was tuned on: AMD Zen 4's 32 KiB L1d and 1 MiB L2 per core.
  package static let standard = CacheSizes(l1: 32 << 10, l2: 1 << 20, l3: 32 << 20, source: "default")

  /// This machine's, with `CNN_CACHE` applied; read once.
  package static let detected: CacheSizes = {
    let read = readSystem() ?? standard
    guard let text = ProcessInfo.processInfo.environment["CNN_CACHE"], !text.isEmpty else { return read }
    do {
      return try read.overridden(by: text)
    } catch {
      var kept = read
      kept.source += " (CNN_CACHE ignored: \(error))"
      return kept
    }
  }()

  /// These sizes with those named in `text` ("l2=512K,l3=16M") in their place.
  package func overridden(by text: String) throws -> CacheSizes {
    var sizes = self
    for item in text.split(separator: ",") {
      let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count == 2, let bytes = CacheSizes.bytes(parts[1]), bytes >= 4 << 10, bytes <= 1 << 34 else {
        throw TensorError("'\(item)' is not LEVEL=SIZE with a size from 4K to 16G, as in l2=512K")
      }
      switch parts[0].lowercased() {
      case "l1": sizes.l1 = bytes
      case "l2": sizes.l2 = bytes
      case "l3": sizes.l3 = bytes
      default: throw TensorError("'\(parts[0])' is not a cache level: l1, l2 or l3")
      }
    }
    sizes.source += ", CNN_CACHE=\(text)"
    return sizes
  }

  /// "512K", "1M", "32768K", "65536": bytes; nil if it is none of those.
  static func bytes(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    guard let last = text.uppercased().last else { return nil }
    if let unit = units[last] {
      return Int(text.dropLast()).flatMap { $0.multipliedReportingOverflow(by: unit).overflow ? nil : $0 * unit }
    }
    return Int(text)
  }

  /// The sizes the system reports, or nil where it reports no L1d or L2.
  private static func readSystem() -> CacheSizes? {
    #if os(Linux)
      var found: [Int: Int] = [:]
      let base = "/sys/devices/system/cpu/cpu0/cache"
      for index in 0..<8 {
        func field(_ name: String) -> String? {
          (try? String(contentsOfFile: "\(base)/index\(index)/\(name)", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let type = field("type") else { break }
        guard type != "Instruction", let level = field("level").flatMap(Int.init),
          let size = field("size").flatMap(bytes)
        else { continue }
        found[level] = size
      }
      guard let l1 = found[1], let l2 = found[2] else { return nil }
      return CacheSizes(l1: l1, l2: l2, l3: found[3] ?? standard.l3, source: "sysfs")
    #elseif os(macOS)
      func value(_ name: String) -> Int? {
        var v: Int64 = 0
        var size = MemoryLayout<Int64>.size
        return sysctlbyname(name, &v, &size, nil, 0) == 0 && v > 0 ? Int(v) : nil
      }
      guard let l1 = value("hw.l1dcachesize"), let l2 = value("hw.l2cachesize") else { return nil }
      return CacheSizes(l1: l1, l2: l2, l3: value("hw.l3cachesize") ?? standard.l3, source: "sysctl")
    #else
      return nil
    #endif
  }
}
