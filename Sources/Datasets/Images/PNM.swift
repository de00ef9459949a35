// Binary PGM (P5) and PPM (P6) decoding, the netpbm formats: a text header (magic, width,
// height, maximum value, with # comments) and the samples, one byte each or two big-endian
// bytes when the maximum is over 255, scaled to 0...255.

/// Decodes a binary PGM or PPM file's bytes.
public func decodePNM(_ data: [UInt8]) throws -> PixelImage {
  guard data.count >= 2, data[0] == UInt8(ascii: "P"), data[1] == UInt8(ascii: "5") || data[1] == UInt8(ascii: "6")
  else { throw ImageFileError("not a binary PGM or PPM file (no P5 or P6 magic)") }
  let channels = data[1] == UInt8(ascii: "6") ? 3 : 1
  var offset = 2
  /// The next header number, after whitespace and comments.
  func number(_ name: String) throws -> Int {
    while offset < data.count {
      if data[offset] == UInt8(ascii: "#") {
        while offset < data.count && data[offset] != 10 && data[offset] != 13 { offset += 1 }
      } else if [9, 10, 11, 12, 13, 32].contains(data[offset]) {
        offset += 1
      } else {
        break
      }
    }
    var value = 0
    var digits = 0
    while offset < data.count, data[offset] >= 48, data[offset] <= 57, digits < 9 {
      value = value * 10 + Int(data[offset] - 48)
      offset += 1
      digits += 1
    }
    guard digits > 0, offset < data.count, !(data[offset] >= 48 && data[offset] <= 57) else {
      throw ImageFileError("the PGM/PPM header's \(name) is missing or not a number below 10⁹")
    }
    return value
  }
  let width = try number("width")
  let height = try number("height")
  let maximum = try number("maximum value")
  guard width > 0, height > 0, width * height <= maximumPixels else {
    throw ImageFileError("the PGM/PPM image is \(width)x\(height): empty, or more than \(maximumPixels) pixels")
  }
  guard maximum > 0, maximum < 65536 else {
    throw ImageFileError("the PGM/PPM maximum value \(maximum) is not 1 to 65535")
  }
  offset += 1  // the single whitespace byte after the maximum
  let bytesPerSample = maximum > 255 ? 2 : 1
  let count = width * height * channels
  guard data.count - offset >= count * bytesPerSample else {
    throw ImageFileError(
      "the PGM/PPM file holds \(max(0, data.count - offset)) bytes of samples, expected \(count * bytesPerSample)")
  }
  var pixels = [UInt8](repeating: 0, count: count)
  for i in 0..<count {
    let v =
      bytesPerSample == 2
      ? Int(data[offset + 2 * i]) << 8 | Int(data[offset + 2 * i + 1]) : Int(data[offset + i])
    guard v <= maximum else { throw ImageFileError("a PGM/PPM sample is \(v), above the maximum \(maximum)") }
    pixels[i] = UInt8((v * 255 + maximum / 2) / maximum)
  }
  return try PixelImage(width: width, height: height, channels: channels, pixels: pixels)
}
