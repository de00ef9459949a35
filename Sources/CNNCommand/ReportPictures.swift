import CNN
import Foundation

// The report's pictures: tensors turned into embedded PNG images.

/// An <img> holding `image` as an embedded PNG, drawn `scale` times larger with square pixels.
func imageTag(_ image: PixelImage, scale: Int, title: String) -> String {
  let data = Data(image.pngData()).base64EncodedString()
  return
    "<img src=\"data:image/png;base64,\(data)\" width=\"\(image.width * scale)\" height=\"\(image.height * scale)\" alt=\"\(escape(title))\" title=\"\(escape(title))\">"
}

/// Values mapped linearly from the [min, max] of the finite ones to 0...255 (128 when they are
/// all equal; 0 for NaN and infinities).
func stretched(_ values: [Float]) -> [UInt8] {
  let finite = values.filter(\.isFinite).map(Double.init)
  guard let lo = finite.min(), let hi = finite.max(), hi > lo else { return values.map { $0.isFinite ? 128 : 0 } }
  return values.map { v in
    guard v.isFinite else { return 0 }
    return UInt8(min(255, max(0, ((Double(v) - lo) / (hi - lo) * 255).rounded())))
  }
}

/// Image `n` of an NHWC batch of pixel values in [0, 1] with 1 or 3 channels, as 8-bit pixels.
func batchImage(_ x: Tensor, _ n: Int) throws -> PixelImage {
  let (h, w, c) = (x.shape[1], x.shape[2], x.shape[3])
  let size = h * w * c
  let pixels = (0..<size).map { UInt8(min(255, max(0, (x[n * size + $0] * 255).rounded()))) }
  return try PixelImage(width: w, height: h, channels: c, pixels: pixels)
}

/// The filters of a kernel [kh, kw, in, out], each as an image: RGB when it reads 3 channels,
/// else the mean over its input channels in gray; each stretched over its own range.
func filterImages(_ kernel: Tensor) throws -> [PixelImage] {
  let (kh, kw, cin, cout) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
  return try (0..<cout).map { o in
    var values: [Float] = []
    for y in 0..<kh {
      for x in 0..<kw {
        let at = { (i: Int) in kernel[((y * kw + x) * cin + i) * cout + o] }
        if cin == 3 {
          values += [at(0), at(1), at(2)]
        } else {
          values.append((0..<cin).reduce(Float(0)) { $0 + at($1) } / Float(cin))
        }
      }
    }
    return try PixelImage(width: kw, height: kh, channels: cin == 3 ? 3 : 1, pixels: stretched(values))
  }
}

/// The first `count` channels of image 0 of an NHWC tensor, each in gray over its own range.
func featureMaps(_ y: Tensor, count: Int) throws -> [PixelImage] {
  let (h, w, c) = (y.shape[1], y.shape[2], y.shape[3])
  return try (0..<min(count, c)).map { k in
    try PixelImage(width: w, height: h, channels: 1, pixels: stretched((0..<(h * w)).map { y[$0 * c + k] }))
  }
}
