/// Keras padding: `valid` uses no padding; `same` pads so that out = ceil(n / s), with the
/// extra row or column (if the total is odd) at the bottom/right, as TensorFlow does.
public enum Padding: String, Sendable, Choice {
  case valid
  case same

  /// Output length along one axis: floor((n - f) / s) + 1 for valid, ceil(n / s) for same.
  /// Returns nil when the window does not fit (valid padding with f > n) or sizes are not positive.
  public func outputSize(input n: Int, window f: Int, stride s: Int) -> Int? {
    guard n > 0, f > 0, s > 0 else { return nil }
    switch self {
    case .valid: return f > n ? nil : (n - f) / s + 1
    case .same: return (n + s - 1) / s
    }
  }

  /// Padding before the first element (top or left).
  public func padBefore(input n: Int, window f: Int, stride s: Int) -> Int {
    switch self {
    case .valid: return 0
    case .same:
      let out = (n + s - 1) / s
      return max((out - 1) * s + f - n, 0) / 2
    }
  }
}

/// The geometry of a 2-D window sliding over an NHWC batch (convolution or pooling).
package struct WindowGeometry: Equatable, Sendable {
  package let batch: Int, height: Int, width: Int, channels: Int
  package let windowH: Int, windowW: Int, strideH: Int, strideW: Int
  package let padTop: Int, padLeft: Int
  package let outH: Int, outW: Int

  package init(
    batch: Int, height: Int, width: Int, channels: Int,
    window: (Int, Int), strides: (Int, Int), padding: Padding
  ) throws {
    guard
      let oh = padding.outputSize(input: height, window: window.0, stride: strides.0),
      let ow = padding.outputSize(input: width, window: window.1, stride: strides.1)
    else {
      throw TensorError(
        "window \(window.0)x\(window.1) with strides \(strides.0)x\(strides.1) and \(padding) padding does not fit an input of \(height)x\(width)"
      )
    }
    self.batch = batch
    self.height = height
    self.width = width
    self.channels = channels
    windowH = window.0
    windowW = window.1
    strideH = strides.0
    strideW = strides.1
    padTop = padding.padBefore(input: height, window: window.0, stride: strides.0)
    padLeft = padding.padBefore(input: width, window: window.1, stride: strides.1)
    outH = oh
    outW = ow
  }
}
