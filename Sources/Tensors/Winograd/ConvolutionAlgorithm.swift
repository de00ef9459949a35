import Foundation

/// How a convolution is computed: as im2col and GEMMs (`direct`, every shape; the reference)
/// or by Winograd's minimal filtering (3×3, stride 1 only).
package enum ConvolutionAlgorithm: Equatable, Sendable {
  case direct
  case winograd(WinogradTile)

  /// The rule: F(4×4, 3×3) for 3×3, stride-1 convolutions with at least 64 input channels and
  /// 64 filters, where the products are wide enough to run near the peak and their 4× saving
  /// in multiplies outweighs the transforms; the direct path for everything else (the seed
  /// model's layers among them).
  /// `CNN_CONV=direct` selects the direct path everywhere; `CNN_CONV=f2` or `f4` selects that
  /// tile wherever the shape allows it.
  package static func choose(_ g: WindowGeometry, filters: Int) -> ConvolutionAlgorithm {
    guard g.windowH == 3, g.windowW == 3, g.strideH == 1, g.strideW == 1 else { return .direct }
    switch override {
    case "direct": return .direct
    case "f2": return .winograd(.f2)
    case "f4": return .winograd(.f4)
    default: return g.channels >= 64 && filters >= 64 ? .winograd(.f4) : .direct
    }
  }

  /// `CNN_CONV`, read once.
  package static let override: String? = ProcessInfo.processInfo.environment["CNN_CONV"]
}
