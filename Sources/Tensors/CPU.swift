import Foundation

/// Which SIMD kernels the GEMM uses. Chosen once from the processor's features (Linux
/// /proc/cpuinfo): AVX-512 where the processor has it, else AVX2 + FMA (the build's
/// baseline). `CNN_SIMD=avx2` forces the AVX2 kernels. Both give bit-identical results.
public enum SIMDKernel: String, Sendable {
  case avx2
  case avx512

  /// What this processor supports.
  public static let best: SIMDKernel = {
    if ProcessInfo.processInfo.environment["CNN_SIMD"] == "avx2" { return .avx2 }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return .avx2 }
    let have = Set(flags.split(separator: " ").map(String.init))
    return ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(have.contains) ? .avx512 : .avx2
  }()

  nonisolated(unsafe) private static var _current = best

  /// The kernels in use; tests switch it to check both paths. Setting `.avx512` on a
  /// processor without it falls back to `.avx2`.
  public static var current: SIMDKernel {
    get { _current }
    set { _current = newValue == .avx512 && best != .avx512 ? .avx2 : newValue }
  }

  /// Columns per micro-kernel panel.
  var panelWidth: Int { self == .avx512 ? 32 : 16 }
}
