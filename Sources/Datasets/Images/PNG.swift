// PNG decoding (ISO/IEC 15948): every colour type (gray, RGB, palette, gray + alpha, RGBA),
// bit depths 1 to 16, Adam7 interlacing, the five row filters, chunk CRCs. Alpha is dropped
// (the pixels are taken as they are stored) and 16-bit samples keep their high byte.

/// 8-bit pixels in rows, channels interleaved: 1 (gray) or 3 (RGB).
public struct PixelImage: Equatable, Sendable {
  public let width: Int, height: Int, channels: Int
  public let pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
    guard width > 0, height > 0, channels == 1 || channels == 3, pixels.count == width * height * channels else {
      throw ImageFileError("\(pixels.count) bytes do not hold a \(width)x\(height) image of \(channels) channels")
    }
    (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
  }
}

/// Why an image file could not be read.
public struct ImageFileError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// The largest image accepted, in pixels: bigger files are refused before any allocation.
let maximumPixels = 1 << 24

/// Decodes a PNG file's bytes.
public func decodePNG(_ data: [UInt8]) throws -> PixelImage {
  let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
  guard data.count >= 8, Array(data[0..<8]) == signature else { throw ImageFileError("not a PNG file (no signature)") }
  var header: PNGHeader?
  var palette: [UInt8] = []
  var compressed: [UInt8] = []
  var offset = 8
  var ended = false
  while !ended {
    guard offset + 12 <= data.count else { throw ImageFileError("the PNG file ends inside a chunk, before IEND") }
    let length = Int(bigEndian32(data, offset))
    guard length <= data.count - offset - 12 else { throw ImageFileError("a PNG chunk runs past the end of the file") }
    let typeBytes = data[(offset + 4)..<(offset + 8)]
    // Chunk types are four ASCII letters; a damaged one is shown in hex.
    let type =
      typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) })
      ? String(decoding: typeBytes, as: UTF8.self) : typeBytes.map { String(format: "%02x", $0) }.joined()
    let body = data[(offset + 8)..<(offset + 8 + length)]
    guard crc32(data[(offset + 4)..<(offset + 8 + length)]) == bigEndian32(data, offset + 8 + length) else {
      throw ImageFileError("the PNG chunk \(type) fails its CRC check")
    }
    offset += 12 + length
    if header == nil && type != "IHDR" { throw ImageFileError("the PNG file does not start with IHDR") }
    switch type {
    case "IHDR":
      guard header == nil else { throw ImageFileError("the PNG file has two IHDR chunks") }
      header = try PNGHeader(Array(body))
    case "PLTE":
      guard length % 3 == 0, length > 0, length <= 768 else {
        throw ImageFileError("the PNG palette has \(length) bytes, not 3 to 768 in threes")
      }
      palette = Array(body)
    case "IDAT":
      compressed += body
    case "IEND":
      ended = true
    default:
      // Ancillary chunks (lowercase first letter) may be skipped; critical ones may not.
      guard let first = type.utf8.first, first & 0x20 != 0 else {
        throw ImageFileError("the PNG file has an unknown critical chunk '\(type)'")
      }
    }
  }
  guard let header else { throw ImageFileError("the PNG file has no IHDR") }
  guard !compressed.isEmpty else { throw ImageFileError("the PNG file has no image data (IDAT)") }
  if header.colorType == 3 {
    guard !palette.isEmpty else { throw ImageFileError("the palette PNG has no PLTE chunk") }
  }
  let raw: [UInt8]
  do {
    raw = try zlibDecompress(compressed, limit: header.rawSize)
  } catch let error as InflateError {
    throw ImageFileError("the PNG image data is damaged: \(error)")
  }
  guard raw.count == header.rawSize else {
    throw ImageFileError("the PNG image data holds \(raw.count) bytes, expected \(header.rawSize)")
  }
  return try header.pixels(from: raw, palette: palette)
}

/// A big-endian 32-bit number at `offset` (which the caller has checked).
private func bigEndian32(_ data: [UInt8], _ offset: Int) -> UInt32 {
  data[offset..<(offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}

private let crcTable: [UInt32] = (0..<256).map { n in
  var c = UInt32(n)
  for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
  return c
}

/// CRC-32 as PNG and zlib use it.
func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
  var c: UInt32 = 0xffff_ffff
  for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
  return c ^ 0xffff_ffff
}

/// IHDR, validated, and how to turn the inflated rows into pixels.
private struct PNGHeader {
  let width: Int, height: Int, bitDepth: Int, colorType: Int, interlaced: Bool

  init(_ b: [UInt8]) throws {
    guard b.count == 13 else { throw ImageFileError("the PNG header (IHDR) has \(b.count) bytes, not 13") }
    width = Int(bigEndian32(b, 0))
    height = Int(bigEndian32(b, 4))
    (bitDepth, colorType) = (Int(b[8]), Int(b[9]))
    guard width > 0, height > 0 else { throw ImageFileError("the PNG image is \(width)x\(height)") }
    guard width <= maximumPixels, height <= maximumPixels, width * height <= maximumPixels else {
      throw ImageFileError("the PNG image is \(width)x\(height), more than \(maximumPixels) pixels")
    }
    let depths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
    guard let allowed = depths[colorType] else {
      throw ImageFileError("the PNG colour type \(colorType) is not one of 0, 2, 3, 4, 6")
    }
    guard allowed.contains(bitDepth) else {
      throw ImageFileError("the PNG bit depth \(bitDepth) is not allowed with colour type \(colorType)")
    }
    guard b[10] == 0, b[11] == 0 else { throw ImageFileError("the PNG compression or filter method is unknown") }
    guard b[12] <= 1 else { throw ImageFileError("the PNG interlace method \(b[12]) is unknown") }
    interlaced = b[12] == 1
    samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
  }

  /// Samples per pixel as stored.
  let samples: Int
  /// Bytes per complete pixel, at least 1: the distance the row filters look back.
  var filterStep: Int { max(1, samples * bitDepth / 8) }

  /// Adam7's passes as (first row, first column, row step, column step); one pass without it.
  var passes: [(Int, Int, Int, Int)] {
    interlaced
      ? [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]
      : [(0, 0, 1, 1)]
  }

  /// The pass's size in pixels.
  func size(_ pass: (Int, Int, Int, Int)) -> (rows: Int, cols: Int) {
    ((height - pass.0 + pass.2 - 1) / pass.2, (width - pass.1 + pass.3 - 1) / pass.3)
  }

  func rowBytes(_ cols: Int) -> Int { (cols * samples * bitDepth + 7) / 8 }

  /// Inflated bytes: each pass's rows, each with its filter byte.
  var rawSize: Int {
    passes.reduce(0) { total, pass in
      let (rows, cols) = size(pass)
      return rows == 0 || cols == 0 ? total : total + rows * (1 + rowBytes(cols))
    }
  }

  func pixels(from raw: [UInt8], palette: [UInt8]) throws -> PixelImage {
    let channels = colorType == 2 || colorType == 3 || colorType == 6 ? 3 : 1
    var out = [UInt8](repeating: 0, count: width * height * channels)
    var offset = 0
    for pass in passes {
      let (rows, cols) = size(pass)
      if rows == 0 || cols == 0 { continue }
      let n = rowBytes(cols)
      var previous = [UInt8](repeating: 0, count: n)
      for r in 0..<rows {
        var row = Array(raw[(offset + 1)..<(offset + 1 + n)])
        try unfilter(&row, previous: previous, type: raw[offset])
        offset += 1 + n
        for c in 0..<cols {
          let at = ((pass.0 + r * pass.2) * width + pass.1 + c * pass.3) * channels
          try pixel(row, c, palette: palette, into: &out, at: at)
        }
        previous = row
      }
    }
    return try PixelImage(width: width, height: height, channels: channels, pixels: out)
  }

  /// Undoes a row's filter (None, Sub, Up, Average, Paeth) in place.
  func unfilter(_ row: inout [UInt8], previous: [UInt8], type: UInt8) throws {
    let step = filterStep
    switch type {
    case 0: break
    case 1: for i in step..<max(step, row.count) { row[i] &+= row[i - step] }
    case 2: for i in 0..<row.count { row[i] &+= previous[i] }
    case 3:
      for i in 0..<row.count {
        let left = i >= step ? Int(row[i - step]) : 0
        row[i] &+= UInt8((left + Int(previous[i])) / 2)
      }
    case 4:
      for i in 0..<row.count {
        let (a, b) = (i >= step ? Int(row[i - step]) : 0, Int(previous[i]))
        let c = i >= step ? Int(previous[i - step]) : 0
        let p = a + b - c
        let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
        row[i] &+= UInt8(pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
      }
    default: throw ImageFileError("a PNG row has the unknown filter type \(type)")
    }
  }

  /// Sample `s` of pixel `c` in an unfiltered row, scaled to 8 bits.
  func sample(_ row: [UInt8], _ c: Int, _ s: Int) -> Int {
    let index = c * samples + s
    switch bitDepth {
    case 16: return Int(row[2 * index])
    case 8: return Int(row[index])
    default:
      let bit = index * bitDepth
      let value = Int(row[bit / 8]) >> (8 - bitDepth - bit % 8) & ((1 << bitDepth) - 1)
      return colorType == 3 ? value : value * 255 / ((1 << bitDepth) - 1)
    }
  }

  func pixel(_ row: [UInt8], _ c: Int, palette: [UInt8], into out: inout [UInt8], at: Int) throws {
    switch colorType {
    case 3:
      let index = sample(row, c, 0)
      guard 3 * index + 2 < palette.count else {
        throw ImageFileError("a PNG pixel uses palette entry \(index) of \(palette.count / 3)")
      }
      for k in 0..<3 { out[at + k] = palette[3 * index + k] }
    case 2, 6:
      for k in 0..<3 { out[at + k] = UInt8(sample(row, c, k)) }
    default:
      out[at] = UInt8(sample(row, c, 0))
    }
  }
}
