// PNG encoding, kept simple: 8-bit gray or RGB, filter None, the zlib stream in stored
// (uncompressed) deflate blocks. Files are larger than a compressor's, and every browser and
// image tool reads them.

extension PixelImage {
  /// The image as a PNG file.
  public func pngData() -> [UInt8] {
    var raw: [UInt8] = []
    raw.reserveCapacity(height * (1 + width * channels))
    for y in 0..<height {
      raw.append(0)
      raw += pixels[(y * width * channels)..<((y + 1) * width * channels)]
    }
    var zlib: [UInt8] = [0x78, 0x01]
    var start = 0
    repeat {
      let n = min(65535, raw.count - start)
      let last: UInt8 = start + n == raw.count ? 1 : 0
      zlib += [last, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
      zlib += raw[start..<(start + n)]
      start += n
    } while start < raw.count
    zlib += bigEndian(adler32(raw))
    let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, channels == 3 ? 2 : 0, 0, 0, 0]
    return [137, 80, 78, 71, 13, 10, 26, 10] + pngChunk("IHDR", header) + pngChunk("IDAT", zlib)
      + pngChunk("IEND", [])
  }
}

private func bigEndian(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> UInt32($0)) } }

private func pngChunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
  let typed = [UInt8](type.utf8) + body
  return bigEndian(UInt32(body.count)) + typed + bigEndian(crc32(typed[...]))
}
