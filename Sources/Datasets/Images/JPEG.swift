// JPEG decoding (ITU T.81 with JFIF, Adobe and EXIF markers): baseline and extended
// sequential (SOF0, SOF1) and progressive (SOF2) Huffman-coded images of 8-bit samples, gray
// or YCbCr (or Adobe RGB) with any sampling factors, restart intervals, EXIF orientation.
// Arithmetic coding, 12-bit samples, lossless and hierarchical JPEG are refused by name, as
// are 4-component (CMYK/YCCK) files. This file reads the markers; JPEGScan.swift decodes
// the scans and JPEGOutput.swift turns coefficients into rows of pixels.

/// One colour component of the frame, with its coefficients or samples as decoding goes.
struct JPEGComponent {
  let id: UInt8
  let h: Int, v: Int
  let quantTable: Int
  /// Blocks across and down the component, padded to whole MCUs, and those that hold image.
  var blocksWide = 0, blocksHigh = 0, usedWide = 0, usedHigh = 0
  var dcTable = 0, acTable = 0
  var predictor = 0
}

/// The decoder's state from SOI to EOI.
final class JPEGDecoder {
  var bits: JPEGBits
  var width = 0, height = 0
  var progressive = false
  var components: [JPEGComponent] = []
  var hMax = 1, vMax = 1, mcusWide = 0, mcusHigh = 0
  var quant = [[Int]](repeating: [], count: 4)
  var dcTables = [JPEGHuffman?](repeating: nil, count: 4)
  var acTables = [JPEGHuffman?](repeating: nil, count: 4)
  var restartInterval = 0
  var eobRun = 0
  /// EXIF orientation 1...8; Adobe's colour transform (nil: no Adobe marker).
  var orientation = 1
  var adobeTransform: Int?
  /// Whether a JFIF marker says the components are YCbCr.
  var jfif = false
  /// Blocks × coefficients the scans have decoded so far, and the most they may.
  var work = 0
  /// Progressive images: every block's coefficients, in natural order, per component.
  var buffers: [CoefficientBuffer] = []
  var output: JPEGOutput?
  let target: (ImageHeader) throws -> (Int, Int, Int)

  init(_ source: ByteSource, target: @escaping (ImageHeader) throws -> (Int, Int, Int)) {
    bits = JPEGBits(source)
    self.target = target
  }

  /// Reads the file from after its SOI marker to EOI and returns the image.
  func decode() throws -> PixelImage {
    var marker = try bits.nextMarker()
    var scans = 0
    while true {
      switch marker {
      case 0xD9:
        guard let output, scans > 0 else { throw ImageFileError("the JPEG file has no image data before EOI") }
        if progressive { try output.render(self) }
        return try output.finish()
      case 0xC0, 0xC1, 0xC2:
        guard components.isEmpty else { throw ImageFileError("the JPEG file has two frame headers") }
        progressive = marker == 0xC2
        try readFrame(try segment())
      case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
        throw ImageFileError("the JPEG file is \(unsupportedKind(marker)), which this decoder does not read")
      case 0xCC: throw ImageFileError("the JPEG file is arithmetic-coded, which this decoder does not read")
      case 0xC4: try readHuffmanTables(try segment())
      case 0xDB: try readQuantTables(try segment())
      case 0xDD:
        let s = try segment()
        guard s.count == 2 else { throw ImageFileError("the JPEG restart interval segment has \(s.count) bytes") }
        restartInterval = Int(s[0]) << 8 | Int(s[1])
      case 0xDA:
        guard output != nil else { throw ImageFileError("the JPEG file has a scan before its frame header") }
        try readScan(try segment())
        scans += 1
        guard scans <= 1000 else { throw ImageFileError("the JPEG file has more than 1000 scans") }
      case 0xE0: if try segment().starts(with: Array("JFIF".utf8) + [0]) { jfif = true }
      case 0xE1: readEXIF(try segment())
      case 0xEE: readAdobe(try segment())
      case 0xDC: throw ImageFileError("the JPEG file sets its height in a DNL marker, which this decoder does not read")
      case 0xD0...0xD7: break  // a stray restart marker between segments
      case 0xD8: throw ImageFileError("the JPEG file has a second SOI marker")
      default:
        guard marker >= 0xC0 else { throw ImageFileError("the JPEG file has an unknown marker \(hex(marker))") }
        _ = try segment()  // APPn, COM and the like
      }
      marker = try bits.nextMarker()
    }
  }

  /// A marker segment's body (its length read and checked).
  private func segment() throws -> [UInt8] {
    let head = try bits.source.read(2, "a JPEG marker segment's length")
    let length = Int(head[0]) << 8 | Int(head[1])
    guard length >= 2 else { throw ImageFileError("a JPEG marker segment has the length \(length)") }
    return try bits.source.read(length - 2, "a JPEG marker segment")
  }

  private func readFrame(_ s: [UInt8]) throws {
    guard s.count >= 6 else { throw ImageFileError("the JPEG frame header has \(s.count) bytes") }
    guard s[0] == 8 else {
      throw ImageFileError("the JPEG file has \(s[0])-bit samples; this decoder reads 8-bit JPEG only")
    }
    height = Int(s[1]) << 8 | Int(s[2])
    width = Int(s[3]) << 8 | Int(s[4])
    let n = Int(s[5])
    guard height > 0 else {
      throw ImageFileError("the JPEG file sets its height in a DNL marker, which this decoder does not read")
    }
    guard n == 1 || n == 3 else {
      throw ImageFileError(
        n == 4
          ? "the JPEG file has 4 components (CMYK or YCCK), which this decoder does not read; convert it to RGB"
          : "the JPEG file has \(n) components; gray (1) and colour (3) are read")
    }
    guard s.count == 6 + 3 * n else { throw ImageFileError("the JPEG frame header has \(s.count) bytes") }
    try ImageLimits.check(ImageHeader(width: width, height: height, channels: n), "JPEG")
    for i in 0..<n {
      let (hv, tq) = (Int(s[7 + 3 * i]), Int(s[8 + 3 * i]))
      let (h, v) = (hv >> 4, hv & 15)
      guard (1...4).contains(h), (1...4).contains(v), tq < 4 else {
        throw ImageFileError("the JPEG component \(i) has sampling \(h)x\(v) and table \(tq)")
      }
      components.append(JPEGComponent(id: s[6 + 3 * i], h: h, v: v, quantTable: tq))
    }
    hMax = components.map(\.h).max()!
    vMax = components.map(\.v).max()!
    mcusWide = (width + 8 * hMax - 1) / (8 * hMax)
    mcusHigh = (height + 8 * vMax - 1) / (8 * vMax)
    for i in components.indices {
      let c = components[i]
      components[i].blocksWide = mcusWide * c.h
      components[i].blocksHigh = mcusHigh * c.v
      components[i].usedWide = ((width * c.h + hMax - 1) / hMax + 7) / 8
      components[i].usedHigh = ((height * c.v + vMax - 1) / vMax + 7) / 8
    }
    output = try JPEGOutput(self)
  }

  private func readQuantTables(_ s: [UInt8]) throws {
    var i = 0
    while i < s.count {
      let (precision, id) = (Int(s[i]) >> 4, Int(s[i]) & 15)
      let size = precision == 0 ? 64 : 128
      guard precision <= 1, id < 4, i + 1 + size <= s.count else {
        throw ImageFileError("a JPEG quantisation table is damaged")
      }
      var table = [Int](repeating: 0, count: 64)
      for k in 0..<64 {
        table[zigzag[k]] = precision == 0 ? Int(s[i + 1 + k]) : Int(s[i + 1 + 2 * k]) << 8 | Int(s[i + 2 + 2 * k])
      }
      quant[id] = table
      i += 1 + size
    }
  }

  private func readHuffmanTables(_ s: [UInt8]) throws {
    var i = 0
    while i < s.count {
      guard i + 17 <= s.count else { throw ImageFileError("a JPEG Huffman table is cut short") }
      let (kind, id) = (Int(s[i]) >> 4, Int(s[i]) & 15)
      guard kind <= 1, id < 4 else { throw ImageFileError("a JPEG Huffman table has the class \(kind), id \(id)") }
      let counts = (0..<16).map { Int(s[i + 1 + $0]) }
      let total = counts.reduce(0, +)
      guard i + 17 + total <= s.count else { throw ImageFileError("a JPEG Huffman table is cut short") }
      let table = try JPEGHuffman(counts: counts, values: Array(s[(i + 17)..<(i + 17 + total)]))
      if kind == 0 { dcTables[id] = table } else { acTables[id] = table }
      i += 17 + total
    }
  }

  /// APP1: an EXIF block's orientation tag (0x0112) in its first image directory.
  private func readEXIF(_ s: [UInt8]) {
    guard s.count >= 14, s.starts(with: Array("Exif".utf8) + [0, 0]) else { return }
    let tiff = Array(s[6...])
    let little = tiff[0] == 0x49
    func number(_ at: Int, _ n: Int) -> Int? {
      guard at >= 0, at + n <= tiff.count else { return nil }
      let bytes = tiff[at..<(at + n)]
      return (little ? bytes.reversed() : Array(bytes)).reduce(0) { $0 << 8 | Int($1) }
    }
    guard let ifd = number(4, 4), let entries = number(ifd, 2) else { return }
    for e in 0..<min(entries, 512) {
      let at = ifd + 2 + 12 * e
      if number(at, 2) == 0x0112, let value = number(at + 8, 2), (1...8).contains(value) { orientation = value }
    }
  }

  /// APP14: Adobe's colour transform (0 RGB or CMYK, 1 YCbCr, 2 YCCK).
  private func readAdobe(_ s: [UInt8]) {
    if s.count >= 12, s.starts(with: Array("Adobe".utf8)) { adobeTransform = Int(s[11]) }
  }

  private func unsupportedKind(_ marker: UInt8) -> String {
    switch marker {
    case 0xC3: return "lossless JPEG"
    case 0xC5, 0xC6, 0xC7: return "hierarchical (differential) JPEG"
    default: return "arithmetic-coded JPEG"
    }
  }
}

func hex(_ byte: UInt8) -> String { String(format: "0xFF%02X", byte) }

/// Decodes a JPEG file from `source`, its first byte (0xFF) read.
func decodeJPEG(_ source: inout ByteSource, target: (ImageHeader) throws -> (Int, Int, Int)) throws -> PixelImage {
  guard try source.byte() == 0xD8 else { throw ImageFileError("not a JPEG file (no SOI marker)") }
  let start = source
  return try withoutActuallyEscaping(target) { target in
    let decoder = JPEGDecoder(start, target: target)
    return try decoder.decode()
  }
}

/// Decodes a JPEG file's bytes, whole.
public func decodeJPEG(_ data: [UInt8]) throws -> PixelImage {
  var source = ByteSource(bytes: data)
  guard try source.byte() == 0xFF else { throw ImageFileError("not a JPEG file (no SOI marker)") }
  return try decodeJPEG(&source, target: wholeImage)
}
