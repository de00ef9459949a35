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

/// Decodes a PNG file's bytes, whole.
public func decodePNG(_ data: [UInt8]) throws -> PixelImage {
  var source = ByteSource(bytes: data)
  guard try source.byte() == 137 else { throw ImageFileError("not a PNG file (no signature)") }
  return try decodePNG(&source, target: wholeImage)
}

/// Decodes a PNG file from `source`, its first byte read, streaming: chunks are read as they
/// come, the image data inflated piece by piece and each row handed to the target's
/// `ImageRows` as soon as it is unfiltered.
func decodePNG(_ source: inout ByteSource, target: (ImageHeader) throws -> (Int, Int, Int)) throws -> PixelImage {
  guard try source.read(7, "the PNG signature") == [80, 78, 71, 13, 10, 26, 10] else {
    throw ImageFileError("not a PNG file (no signature)")
  }
  let chunks = PNGChunks(source)
  var header: PNGHeader?
  var palette: [UInt8] = []
  while true {
    let type = try chunks.nextChunk()
    if header == nil && type != "IHDR" { throw ImageFileError("the PNG file does not start with IHDR") }
    switch type {
    case "IHDR":
      guard header == nil else { throw ImageFileError("the PNG file has two IHDR chunks") }
      header = try PNGHeader(try chunks.wholeBody(limit: 13))
    case "PLTE":
      palette = try chunks.wholeBody(limit: 768)
      guard palette.count % 3 == 0, !palette.isEmpty else {
        throw ImageFileError("the PNG palette has \(palette.count) bytes, not 3 to 768 in threes")
      }
    case "IDAT":
      guard let header else { throw ImageFileError("the PNG file has no IHDR") }
      if header.colorType == 3 && palette.isEmpty { throw ImageFileError("the palette PNG has no PLTE chunk") }
      let image = try header.decode(chunks, palette: palette, target: target)
      source = chunks.source
      return image
    case "IEND":
      throw ImageFileError("the PNG file has no image data (IDAT)")
    default:
      // Ancillary chunks (lowercase first letter) may be skipped; critical ones may not.
      guard let first = type.utf8.first, first & 0x20 != 0 else {
        throw ImageFileError("the PNG file has an unknown critical chunk '\(type)'")
      }
      try chunks.skipBody()
    }
  }
}

/// A PNG file's chunks read in order: each chunk's type, then its body in pieces, its CRC
/// checked when the body ends. A class, since the inflater's input closure reads through it.
private final class PNGChunks {
  var source: ByteSource
  private(set) var type = ""
  private var left = 0
  private var crc: UInt32 = 0
  private var ended = false
  /// Set once a chunk other than IDAT follows the image data: no later chunk is image data.
  private var dataEnded = false

  init(_ source: ByteSource) { self.source = source }

  /// Reads the next chunk's length and type; its body is then read by the calls below.
  func nextChunk() throws -> String {
    let head = try source.read(8, "a PNG chunk header, before IEND")
    let length = Int(bigEndian32(head, 0))
    guard length < 1 << 31, length <= source.remaining - 4 else {
      throw ImageFileError("a PNG chunk runs past the end of the file")
    }
    let typeBytes = head[4..<8]
    // Chunk types are four ASCII letters; a damaged one is refused, shown in hex.
    guard typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
      let shown = typeBytes.map { String(format: "%02x", $0) }.joined()
      throw ImageFileError("the PNG file has a chunk of the invalid type \(shown)")
    }
    type = String(decoding: typeBytes, as: UTF8.self)
    (left, crc, ended) = (length, crcUpdate(0xffff_ffff, typeBytes), false)
    return type
  }

  /// The next piece of the body, at most 1 MB; after the last, the CRC is checked and nil returned.
  func bodyPiece() throws -> ArraySlice<UInt8>? {
    if left == 0 {
      if !ended {
        ended = true
        let stored = bigEndian32(try source.read(4, "a PNG chunk's CRC"), 0)
        guard crc ^ 0xffff_ffff == stored else { throw ImageFileError("the PNG chunk \(type) fails its CRC check") }
      }
      return nil
    }
    let piece = try source.next(upTo: min(left, 1 << 20))
    guard !piece.isEmpty else { throw ImageFileError("the PNG file ends inside the chunk \(type)") }
    left -= piece.count
    crc = crcUpdate(crc, piece)
    return piece
  }

  /// The whole body of a small chunk, at most `limit` bytes.
  func wholeBody(limit: Int) throws -> [UInt8] {
    guard left <= limit else { throw ImageFileError("the PNG chunk \(type) has \(left) bytes, more than \(limit)") }
    var body: [UInt8] = []
    while let piece = try bodyPiece() { body += piece }
    return body
  }

  func skipBody() throws { while try bodyPiece() != nil {} }

  /// The image data: the bodies of consecutive IDAT chunks, the first one's chunk already
  /// begun; nil after the last.
  func imageData() throws -> ArraySlice<UInt8>? {
    while !dataEnded {
      if let piece = try bodyPiece() { return piece }
      if try nextChunk() != "IDAT" { dataEnded = true }
    }
    return nil
  }

  /// After the image data: the remaining chunks up to IEND are read and checked.
  func finish() throws {
    var type = self.type
    while true {
      if type == "IEND" {
        try skipBody()
        return
      }
      if type == "IDAT" || type.utf8.first.map({ $0 & 0x20 != 0 }) == true {
        try skipBody()
      } else {
        throw ImageFileError("the PNG file has the critical chunk '\(type)' after its image data")
      }
      type = try nextChunk()
    }
  }
}

/// A big-endian 32-bit number at `offset` (which the caller has checked).
private func bigEndian32<C: RandomAccessCollection<UInt8>>(_ data: C, _ offset: Int) -> UInt32 where C.Index == Int {
  data[(data.startIndex + offset)..<(data.startIndex + offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}

private let crcTable: [UInt32] = (0..<256).map { n in
  var c = UInt32(n)
  for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
  return c
}

/// CRC-32 as PNG and zlib use it.
func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 { crcUpdate(0xffff_ffff, bytes) ^ 0xffff_ffff }

/// The CRC register carried on over `bytes` (start with all ones, finish by inverting).
func crcUpdate(_ register: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
  var c = register
  for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
  return c
}

/// IHDR, validated, and how to turn the inflated rows into pixels.
private struct PNGHeader {
  let width: Int, height: Int, bitDepth: Int, colorType: Int, interlaced: Bool

  init(_ b: [UInt8]) throws {
    guard b.count == 13 else { throw ImageFileError("the PNG header (IHDR) has \(b.count) bytes, not 13") }
    width = Int(bigEndian32(b, 0))
    height = Int(bigEndian32(b, 4))
    (bitDepth, colorType) = (Int(b[8]), Int(b[9]))
    try ImageLimits.check(ImageHeader(width: width, height: height, channels: 1), "PNG")
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

  /// Channels as decoded: palette and colour images give RGB, the others gray (alpha is dropped).
  var channels: Int { colorType == 2 || colorType == 3 || colorType == 6 ? 3 : 1 }

  /// Inflates the image data of `chunks` (its first IDAT begun) into the size `target` gives,
  /// row by row, then reads the chunks after it up to IEND.
  func decode(_ chunks: PNGChunks, palette: [UInt8], target: (ImageHeader) throws -> (Int, Int, Int)) throws
    -> PixelImage
  {
    // DEFLATE cannot expand data more than 1,032 times: a header that claims more lies.
    guard rawSize / 1032 <= chunks.source.remaining else {
      throw ImageFileError(
        "the PNG image is \(width)x\(height), more than its \(chunks.source.remaining) bytes of data can hold")
    }
    let size = try target(ImageHeader(width: width, height: height, channels: channels))
    if interlaced && width * height > ImageLimits.wholePixels {
      throw ImageFileError(
        "the PNG image is interlaced and \(width)x\(height): more than the \(ImageLimits.wholePixels) pixels an interlaced image may have (its passes need the whole image); save it without interlacing"
      )
    }
    let reader = PNGRowReader(
      self, palette: palette, rows: try ImageRows(width: width, height: height, channels: channels, target: size))
    do {
      try zlibInflate(input: chunks.imageData, limit: rawSize, output: reader.take)
    } catch let error as InflateError {
      throw ImageFileError("the PNG image data is damaged: \(error)")
    }
    guard reader.received == rawSize else {
      throw ImageFileError("the PNG image data holds \(reader.received) bytes, expected \(rawSize)")
    }
    try chunks.finish()
    return try reader.finish()
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

  /// The `cols` pixels of an unfiltered row, as 8-bit gray or RGB, into `out` from `at` on,
  /// `step` pixels apart.
  func pixels(_ row: [UInt8], cols: Int, palette: [UInt8], into out: inout [UInt8], at: Int, step: Int) throws {
    let channels = self.channels
    for c in 0..<cols {
      let o = at + c * step * channels
      switch colorType {
      case 3:
        let index = sample(row, c, 0)
        guard 3 * index + 2 < palette.count else {
          throw ImageFileError("a PNG pixel uses palette entry \(index) of \(palette.count / 3)")
        }
        for k in 0..<3 { out[o + k] = palette[3 * index + k] }
      case 2, 6:
        for k in 0..<3 { out[o + k] = UInt8(sample(row, c, k)) }
      default:
        out[o] = UInt8(sample(row, c, 0))
      }
    }
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
}

/// The inflated image data taken in pieces: each row gathered with its filter byte,
/// unfiltered against the row above, turned into pixels and handed on (interlaced images are
/// put together whole first, their passes falling into place).
private final class PNGRowReader {
  let header: PNGHeader
  let palette: [UInt8]
  let passes: [(Int, Int, Int, Int)]
  var rows: ImageRows
  private(set) var received = 0
  private var whole: [UInt8] = []
  private var line: [UInt8]
  private var pass = -1
  private var passRows = 0, passCols = 0, row = 0
  private var filter: UInt8 = 0
  private var filled = -1
  private var current: [UInt8] = []
  private var previous: [UInt8] = []

  init(_ header: PNGHeader, palette: [UInt8], rows: ImageRows) {
    (self.header, self.palette, self.rows, passes) = (header, palette, rows, header.passes)
    line = [UInt8](repeating: 0, count: header.interlaced ? 0 : header.width * header.channels)
    if header.interlaced { whole = [UInt8](repeating: 0, count: header.width * header.height * header.channels) }
    nextPass()
  }

  /// Moves to the next pass with pixels in it.
  private func nextPass() {
    repeat {
      pass += 1
      guard pass < passes.count else { return }
      (passRows, passCols) = header.size(passes[pass])
    } while passRows == 0 || passCols == 0
    row = 0
    current = [UInt8](repeating: 0, count: header.rowBytes(passCols))
    previous = current
  }

  func take(_ bytes: ArraySlice<UInt8>) throws {
    received += bytes.count
    var i = bytes.startIndex
    while i < bytes.endIndex, pass < passes.count {
      if filled < 0 {
        filter = bytes[i]
        (filled, i) = (0, i + 1)
        continue
      }
      let k = min(current.count - filled, bytes.endIndex - i)
      current.replaceSubrange(filled..<(filled + k), with: bytes[i..<(i + k)])
      (filled, i) = (filled + k, i + k)
      if filled == current.count { try rowDone() }
    }
  }

  private func rowDone() throws {
    try header.unfilter(&current, previous: previous, type: filter)
    let p = passes[pass]
    if header.interlaced {
      let at = ((p.0 + row * p.2) * header.width + p.1) * header.channels
      try header.pixels(current, cols: passCols, palette: palette, into: &whole, at: at, step: p.3)
    } else {
      try header.pixels(current, cols: passCols, palette: palette, into: &line, at: 0, step: 1)
      line.withUnsafeBufferPointer { rows.add($0) }
    }
    swap(&current, &previous)
    (filled, row) = (-1, row + 1)
    if row == passRows { nextPass() }
  }

  func finish() throws -> PixelImage {
    if header.interlaced {
      let n = header.width * header.channels
      for y in 0..<header.height {
        whole.withUnsafeBufferPointer { rows.add(UnsafeBufferPointer(rebasing: $0[(y * n)..<((y + 1) * n)])) }
      }
    }
    return try rows.finish()
  }
}
