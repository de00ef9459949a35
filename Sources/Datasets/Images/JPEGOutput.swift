import Foundation

// From coefficients to pixels: the inverse DCT (full, or scaled to 4×4, 2×2 or 1×1 per block
// as libjpeg's scaled decoding, when the target is much smaller than the photo), libjpeg-turbo's
// smooth ("fancy") upsampling of 2×1, 1×2 and 2×2 subsampled chroma (others are replicated),
// libjpeg's fixed-point YCbCr → RGB, then the EXIF orientation, row by row into `ImageRows`.

/// The decoded component planes (at the chosen scale) and what becomes of them.
final class JPEGOutput {
  /// Each block becomes `n`×`n` samples: 8 at full size, 4, 2 or 1 scaled down.
  let n: Int
  let scale: Int
  /// The image at the chosen scale, before orientation.
  let width: Int, height: Int
  let channels: Int
  let orientation: Int
  private var planes: [[UInt8]]
  private let planeWidths: [Int]
  private var rows: ImageRows
  private let ycc: Bool
  private let sampling: [(h: Int, v: Int)]
  private let hMax: Int, vMax: Int
  private let usedSizes: [(Int, Int)]
  private let idct: [Float]
  /// Scratch for one block: the dequantised coefficients and the columns' transform.
  private var f: [Float]
  private var t: [Float]

  init(_ d: JPEGDecoder) throws {
    channels = d.components.count == 1 ? 1 : 3
    orientation = d.orientation
    let turned = orientation >= 5
    let header = ImageHeader(
      width: turned ? d.height : d.width, height: turned ? d.width : d.height, channels: channels)
    let (th, tw, tc) = try d.target(header)
    guard (1...ImageLimits.side).contains(th), (1...ImageLimits.side).contains(tw) else {
      throw ImageFileError("cannot resize to \(th)x\(tw)x\(tc)")
    }
    // The smallest decoding whose every component, subsampled chroma too, keeps at least
    // twice the target's samples each way, so that the area average that follows still sees
    // each target pixel's footprint closely.
    let least = 2 * max(d.hMax, d.vMax)
    var s = 8
    while s > 1 && ((header.width + s - 1) / s < least * tw || (header.height + s - 1) / s < least * th) { s /= 2 }
    // Memory: the decoded planes stay within what an image read whole may take.
    while s < 8 && ((header.width + s - 1) / s) * ((header.height + s - 1) / s) > ImageLimits.wholePixels { s *= 2 }
    (scale, n) = (s, 8 / s)
    (width, height) = ((d.width + s - 1) / s, (d.height + s - 1) / s)
    planeWidths = d.components.map { $0.blocksWide * (8 / s) }
    planes = d.components.map { [UInt8](repeating: 0, count: $0.blocksWide * $0.blocksHigh * (8 / s) * (8 / s)) }
    sampling = d.components.map { ($0.h, $0.v) }
    (hMax, vMax) = (d.hMax, d.vMax)
    usedSizes = d.components.map {
      ((d.width * $0.h + d.hMax * s - 1) / (d.hMax * s), (d.height * $0.v + d.vMax * s - 1) / (d.vMax * s))
    }
    // Three components are YCbCr unless Adobe says RGB, or (without Adobe or JFIF markers)
    // their ids spell R, G, B, as libjpeg decides.
    let ids = d.components.map(\.id)
    ycc = channels == 3 && (d.adobeTransform.map { $0 != 0 } ?? (d.jfif || ids != [82, 71, 66]))
    idct = inverseDCTMatrix(8 / s)
    f = [Float](repeating: 0, count: 64)
    t = [Float](repeating: 0, count: 64)
    let out = turned ? (height, width) : (width, height)
    rows = try ImageRows(width: out.0, height: out.1, channels: channels, target: (th, tw, tc))
  }

  /// Block (`row`, `col`) of component `c`: dequantised coefficients (natural order) through
  /// the inverse DCT into its plane.
  func put(_ c: Int, row: Int, col: Int, _ coefficients: UnsafePointer<Int16>, quant: [Int]) {
    for v in 0..<n {
      for u in 0..<n { f[v * n + u] = Float(Int(coefficients[v * 8 + u]) * quant[v * 8 + u]) }
    }
    // Columns, then rows: t[y][u] = Σ_v M[y][v] f[v][u]; out[y][x] = Σ_u M[x][u] t[y][u].
    for i in 0..<(n * n) { t[i] = 0 }
    for y in 0..<n {
      for v in 0..<n {
        let m = idct[y * n + v]
        for u in 0..<n { t[y * n + u] += m * f[v * n + u] }
      }
    }
    let stride = planeWidths[c]
    let base = row * n * stride + col * n
    planes[c].withUnsafeMutableBufferPointer { plane in
      for y in 0..<n {
        for x in 0..<n {
          var sum: Float = 128
          for u in 0..<n { sum += idct[x * n + u] * t[y * n + u] }
          plane[base + y * stride + x] = UInt8(Swift.min(255, Swift.max(0, sum.rounded())))
        }
      }
    }
  }

  /// Progressive images: every block's kept coefficients through the inverse DCT.
  func render(_ d: JPEGDecoder) throws {
    for (c, component) in d.components.enumerated() {
      let quant = d.quant[component.quantTable]
      guard quant.count == 64 else {
        throw ImageFileError("the JPEG file lacks quantisation table \(component.quantTable)")
      }
      let all = d.buffers[c].pointer
      for row in 0..<component.usedHigh {
        for col in 0..<component.usedWide {
          put(c, row: row, col: col, all + (row * component.blocksWide + col) * 64, quant: quant)
        }
      }
    }
  }

  /// The pixels: each row upsampled, converted to RGB and turned upright, into the target.
  func finish() throws -> PixelImage {
    var line = [UInt8](repeating: 0, count: width * channels)
    var upright = orientation == 1 ? [] : [UInt8](repeating: 0, count: width * height * channels)
    var component = (0..<planes.count).map { _ in [UInt8](repeating: 0, count: width + 1) }
    for y in 0..<height {
      for c in planes.indices { upsample(c, row: y, into: &component[c]) }
      if channels == 1 {
        for x in 0..<width { line[x] = component[0][x] }
      } else {
        for x in 0..<width {
          let rgb =
            ycc
            ? yccToRGB(component[0][x], component[1][x], component[2][x])
            : (component[0][x], component[1][x], component[2][x])
          (line[3 * x], line[3 * x + 1], line[3 * x + 2]) = rgb
        }
      }
      if orientation == 1 {
        line.withUnsafeBufferPointer { rows.add($0) }
      } else {
        upright.replaceSubrange((y * width * channels)..<((y + 1) * width * channels), with: line)
      }
    }
    if orientation != 1 { try addUpright(upright) }
    return try rows.finish()
  }

  /// Row `y` of component `c` at full resolution (the image's scaled width).
  private func upsample(_ c: Int, row y: Int, into out: inout [UInt8]) {
    let (h, v) = sampling[c]
    let (fx, fy) = (hMax / h, vMax / v)
    let (usedW, usedH) = usedSizes[c]
    let stride = planeWidths[c]
    let plane = planes[c]
    let exact = hMax % h == 0 && vMax % v == 0
    if exact && fx == 1 && fy == 1 {
      for x in 0..<width { out[x] = plane[y * stride + x] }
    } else if exact && fx == 2 && fy == 1 && usedW >= 2 {
      // libjpeg's triangle filter across: 3/4 of the nearer sample, 1/4 of the next.
      let base = Swift.min(usedH - 1, y) * stride
      for i in 0..<usedW {
        let this = 3 * Int(plane[base + i])
        let left = i == 0 ? Int(plane[base]) : (this + Int(plane[base + i - 1]) + 1) >> 2
        let right = i == usedW - 1 ? Int(plane[base + i]) : (this + Int(plane[base + i + 1]) + 2) >> 2
        store(left, right, at: i, into: &out)
      }
    } else if exact && fx == 1 && fy == 2 {
      // libjpeg-turbo's triangle filter down: 3/4 of the nearer row, 1/4 of the farther.
      let r = Swift.min(usedH - 1, y / 2)
      let far = Swift.min(usedH - 1, Swift.max(0, y % 2 == 0 ? r - 1 : r + 1))
      let bias = y % 2 == 0 ? 1 : 2
      for x in 0..<width {
        out[x] = UInt8((3 * Int(plane[r * stride + x]) + Int(plane[far * stride + x]) + bias) >> 2)
      }
    } else if exact && fx == 2 && fy == 2 && usedW >= 2 {
      // The same across and down: column sums of 3/4 the nearer row and 1/4 the farther.
      let r = Swift.min(usedH - 1, y / 2)
      let far = Swift.min(usedH - 1, Swift.max(0, y % 2 == 0 ? r - 1 : r + 1))
      func colsum(_ i: Int) -> Int { 3 * Int(plane[r * stride + i]) + Int(plane[far * stride + i]) }
      var (last, this) = (0, colsum(0))
      for i in 0..<usedW {
        let next = i + 1 < usedW ? colsum(i + 1) : 0
        let left = i == 0 ? (this * 4 + 8) >> 4 : (this * 3 + last + 8) >> 4
        let right = i == usedW - 1 ? (this * 4 + 7) >> 4 : (this * 3 + next + 7) >> 4
        store(left, right, at: i, into: &out)
        (last, this) = (this, next)
      }
    } else {
      // Other factors: each sample repeated over the pixels it covers.
      let r = Swift.min(usedH - 1, y * v / vMax)
      for x in 0..<width { out[x] = plane[r * stride + Swift.min(usedW - 1, x * h / hMax)] }
    }
  }

  /// Two upsampled pixels of sample `i`, those within the width.
  private func store(_ left: Int, _ right: Int, at i: Int, into out: inout [UInt8]) {
    if 2 * i < width { out[2 * i] = UInt8(clamping: left) }
    if 2 * i + 1 < width { out[2 * i + 1] = UInt8(clamping: right) }
  }

  /// The decoded image turned by its EXIF orientation, into the target.
  private func addUpright(_ image: [UInt8]) throws {
    let turned = orientation >= 5
    let (w2, h2) = turned ? (height, width) : (width, height)
    var line = [UInt8](repeating: 0, count: w2 * channels)
    for y2 in 0..<h2 {
      for x2 in 0..<w2 {
        let (x, y): (Int, Int)
        switch orientation {
        case 2: (x, y) = (width - 1 - x2, y2)
        case 3: (x, y) = (width - 1 - x2, height - 1 - y2)
        case 4: (x, y) = (x2, height - 1 - y2)
        case 5: (x, y) = (y2, x2)
        case 6: (x, y) = (y2, height - 1 - x2)
        case 7: (x, y) = (width - 1 - y2, height - 1 - x2)
        default: (x, y) = (width - 1 - y2, x2)
        }
        for k in 0..<channels { line[x2 * channels + k] = image[(y * width + x) * channels + k] }
      }
      line.withUnsafeBufferPointer { rows.add($0) }
    }
  }
}

/// libjpeg's YCbCr → RGB (jdcolor.c): 16-bit fixed-point factors, rounded, clamped.
@inline(__always)
private func yccToRGB(_ y: UInt8, _ cb: UInt8, _ cr: UInt8) -> (UInt8, UInt8, UInt8) {
  let (yy, b, r) = (Int(y), Int(cb) - 128, Int(cr) - 128)
  let half = 1 << 15
  let red = yy + ((91881 * r + half) >> 16)
  let green = yy + ((-22554 * b - 46802 * r + half) >> 16)
  let blue = yy + ((116130 * b + half) >> 16)
  return (UInt8(clamping: red), UInt8(clamping: green), UInt8(clamping: blue))
}

/// The `n`-point inverse DCT as a matrix M[x][u] = C(u)/2 · cos((2x + 1)uπ / 2n), C(0) = 1/√2:
/// with n < 8 it decodes a block from its n×n lowest frequencies at 1/(8/n) of its size.
private func inverseDCTMatrix(_ n: Int) -> [Float] {
  var m = [Float](repeating: 0, count: n * n)
  for x in 0..<n {
    for u in 0..<n {
      let c = u == 0 ? 1 / 2.0.squareRoot() : 1
      m[x * n + u] = Float(c / 2 * cos(Double((2 * x + 1) * u) * Double.pi / Double(2 * n)))
    }
  }
  return m
}
