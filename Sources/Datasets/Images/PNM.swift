// Binary PGM (P5) and PPM (P6) decoding, the netpbm formats: a text header (magic, width,
// height, maximum value, with # comments) and the samples, one byte each or two big-endian
// bytes when the maximum is over 255, scaled to 0...255. Read a row at a time.

/// Decodes a binary PGM or PPM file's bytes, whole.
public func decodePNM(_ data: [UInt8]) throws -> PixelImage {
  var source = ByteSource(bytes: data)
  guard try source.byte() == UInt8(ascii: "P") else {
    throw ImageFileError("not a binary PGM or PPM file (no P5 or P6 magic)")
  }
  return try decodePNM(&source, target: wholeImage)
}

/// Decodes a PGM or PPM file from `source`, its first byte ("P") read, into the size `target`
/// gives, row by row.
func decodePNM(_ source: inout ByteSource, target: (ImageHeader) throws -> (Int, Int, Int)) throws -> PixelImage {
  let magic = try source.byte()
  guard magic == UInt8(ascii: "5") || magic == UInt8(ascii: "6") else {
    throw ImageFileError("not a binary PGM or PPM file (no P5 or P6 magic)")
  }
  let channels = magic == UInt8(ascii: "6") ? 3 : 1
  var pending = try source.byte()
  /// The next header number, after whitespace and comments; `pending` is the byte after it.
  func number(_ name: String) throws -> Int {
    while let b = pending {
      if b == UInt8(ascii: "#") {
        while let c = pending, c != 10, c != 13 { pending = try source.byte() }
      } else if [9, 10, 11, 12, 13, 32].contains(b) {
        pending = try source.byte()
      } else {
        break
      }
    }
    var (value, digits) = (0, 0)
    while let b = pending, b >= 48, b <= 57, digits < 9 {
      value = value * 10 + Int(b - 48)
      digits += 1
      pending = try source.byte()
    }
    guard digits > 0, let b = pending, !(b >= 48 && b <= 57) else {
      throw ImageFileError("the PGM/PPM header's \(name) is missing or not a number below 10⁹")
    }
    return value
  }
  let width = try number("width")
  let height = try number("height")
  let maximum = try number("maximum value")
  // `pending` is the single whitespace byte after the maximum.
  guard let after = pending, [9, 10, 11, 12, 13, 32].contains(after) else {
    throw ImageFileError("the PGM/PPM header's maximum value is not followed by whitespace")
  }
  try ImageLimits.check(ImageHeader(width: width, height: height, channels: channels), "PGM/PPM")
  guard maximum > 0, maximum < 65536 else {
    throw ImageFileError("the PGM/PPM maximum value \(maximum) is not 1 to 65535")
  }
  let bytesPerSample = maximum > 255 ? 2 : 1
  let rowSamples = width * channels
  let expected = height * rowSamples * bytesPerSample
  guard source.remaining >= expected else {
    throw ImageFileError(
      "the PGM/PPM file holds \(max(0, source.remaining)) bytes of samples, expected \(expected)")
  }
  var rows = try ImageRows(
    width: width, height: height, channels: channels,
    target: try target(ImageHeader(width: width, height: height, channels: channels)))
  var line = [UInt8](repeating: 0, count: rowSamples)
  for _ in 0..<height {
    let raw = try source.read(rowSamples * bytesPerSample, "the PGM/PPM samples")
    for i in 0..<rowSamples {
      let v = bytesPerSample == 2 ? Int(raw[2 * i]) << 8 | Int(raw[2 * i + 1]) : Int(raw[i])
      guard v <= maximum else { throw ImageFileError("a PGM/PPM sample is \(v), above the maximum \(maximum)") }
      line[i] = UInt8((v * 255 + maximum / 2) / maximum)
    }
    line.withUnsafeBufferPointer { rows.add($0) }
  }
  return try rows.finish()
}
