import Foundation
import Synchronization

/// Which SIMD kernels the GEMM uses: the portable 6×8 kernel (Swift SIMD4 alone), the AVX2 +
/// FMA 6×16 one, or the AVX-512 ones. The x86 kernels exist only in builds with the native
/// flags (Package.swift), which also compile everything else for AVX2 + FMA: such a build
/// needs a processor that has them, whichever kernel runs. Chosen once from the processor's features
/// (Linux `/proc/cpuinfo`, macOS `sysctl`): the best one the build and the processor have.
/// `CNN_SIMD=portable|avx2|avx512` caps the choice. AVX2 and AVX-512 give bit-identical
/// results; the portable kernel agrees with them to rounding.
package enum SIMDKernel: String, Sendable, Comparable, CaseIterable {
  case portable
  case avx2
  case avx512

  /// The kernels this build can run on this processor, in increasing order.
  package static let available: [SIMDKernel] = {
    #if CNN_X86_NATIVE
      let features = CPUFeatures.detect()
      var kernels: [SIMDKernel] = [.portable]
      if features.contains("avx2") && features.contains("fma") { kernels.append(.avx2) }
      if ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(features.contains) { kernels.append(.avx512) }
      return kernels
    #else
      return [.portable]
    #endif
  }()

  /// The best available kernel, capped by `CNN_SIMD` when it names one.
  package static let best: SIMDKernel = {
    let cap = ProcessInfo.processInfo.environment["CNN_SIMD"].flatMap(SIMDKernel.init(rawValue:)) ?? .avx512
    return available.last { $0 <= cap } ?? .portable
  }()

  /// The index in `allCases` of the kernels in use.
  private static let _current = Atomic<Int>(allCases.firstIndex(of: best) ?? 0)

  /// The kernels in use; tests switch it to check every path. Asking for a kernel above
  /// `best` gives `best`.
  package static var current: SIMDKernel {
    get { allCases[_current.load(ordering: .relaxed)] }
    set { _current.store(allCases.firstIndex(of: min(newValue, best)) ?? 0, ordering: .relaxed) }
  }

  package static func < (a: SIMDKernel, b: SIMDKernel) -> Bool { a.rank < b.rank }

  private var rank: Int {
    switch self {
    case .portable: return 0
    case .avx2: return 1
    case .avx512: return 2
    }
  }

  /// Columns per micro-kernel panel.
  var panelWidth: Int {
    switch self {
    case .portable: return 8
    case .avx2: return 16
    case .avx512: return 32
    }
  }
}

/// The processor's instruction-set features, lower-case as Linux names them ("avx2", "fma",
/// "avx512f"); empty where they cannot be read, which selects the portable kernels.
enum CPUFeatures {
  static func detect() -> Set<String> {
    #if os(Linux)
      guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
      else { return [] }
      return Set(flags.split(separator: " ").map(String.init))
    #elseif os(macOS)
      let names = [
        "avx2": "hw.optional.avx2_0", "fma": "hw.optional.fma", "avx512f": "hw.optional.avx512f",
        "avx512dq": "hw.optional.avx512dq", "avx512bw": "hw.optional.avx512bw", "avx512vl": "hw.optional.avx512vl",
      ]
      return Set(names.filter { sysctlFlag($0.value) }.keys)
    #else
      return []
    #endif
  }

  #if os(macOS)
    private static func sysctlFlag(_ name: String) -> Bool {
      var value: Int32 = 0
      var size = MemoryLayout<Int32>.size
      return sysctlbyname(name, &value, &size, nil, 0) == 0 && value != 0
    }
  #endif
}
