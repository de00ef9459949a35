import Datasets
import Foundation
import Tensors
import XCTest

final class PNGTests: XCTestCase {
  private func fixture(_ name: String) -> [UInt8] { [UInt8](Data(base64Encoded: pngFixtures[name]!.png)!) }

  /// Files from an independent encoder (Python's zlib, see Fixtures/make_pngs.py), every colour
  /// type, bit depths 1, 2, 8 and 16, all five row filters, split IDAT chunks, an ancillary
  /// chunk and Adam7 interlacing, decode to the pixels they were written from.
  func testDecodesEveryColourType() throws {
    XCTAssertEqual(pngFixtures.count, 9)
    for (name, f) in pngFixtures {
      let image = try decodePNG(fixture(name))
      XCTAssertEqual([image.width, image.height, image.channels], [f.width, f.height, f.channels], name)
      XCTAssertEqual(image.pixels, f.pixels, name)
    }
  }

  /// Damaged files of every kind give an `ImageFileError`, never a crash: 2,400 mutations of
  /// the fixtures (bytes changed, inserted, deleted, the file cut short), half of them with
  /// the chunks' CRCs set right again so that the damage reaches inflate and the row filters.
  func testMutatedFilesFailCleanly() throws {
    var rng = SeededRandom(seed: 7)
    var tally = DecodeTally()
    let names = pngFixtures.keys.sorted()
    for trial in 0..<2400 {
      var bytes = damaged(fixture(names[trial % names.count]), after: 8, truncating: false, &rng)
      if trial % 2 == 0 { bytes = withCorrectCRCs(bytes) }
      try tally.record { try decodePNG(bytes) }
    }
    tally.check("PNG mutations", trials: 2400, minimumRefused: 1000)
    for cut in [0, 7, 8, 20, 33] { XCTAssertThrowsError(try decodePNG(Array(fixture("rgb8").prefix(cut)))) }
  }

  /// Pixels past what the format holds are refused with what is wrong: a palette index past
  /// the palette, an unknown filter type, an image larger than the limit.
  func testSpecificErrors() throws {
    // A 2×1 palette image (bit depth 8) with 2 palette entries, stored uncompressed.
    func palettePNG(_ indices: [UInt8], filter: UInt8 = 0) -> [UInt8] {
      pngFile(width: 2, height: 1, depth: 8, colorType: 3, rows: [filter] + indices, palette: [1, 2, 3, 4, 5, 6])
    }
    XCTAssertEqual(try decodePNG(palettePNG([1, 0])).pixels, [4, 5, 6, 1, 2, 3])
    XCTAssertThrowsError(try decodePNG(palettePNG([2, 0]))) {
      XCTAssertTrue("\($0)".contains("palette entry 2 of 2"), "\($0)")
    }
    XCTAssertThrowsError(try decodePNG(palettePNG([0, 0], filter: 5))) {
      XCTAssertTrue("\($0)".contains("filter type 5"), "\($0)")
    }
    let huge = pngFile(width: 100_000, height: 100_000, depth: 8, colorType: 0, rows: [0])
    XCTAssertThrowsError(try decodePNG(huge)) { XCTAssertTrue("\($0)".contains("more than"), "\($0)") }
    // Work: 60,000² pixels is past the limit; 20,000 x 10,000 is not, but a few bytes of data
    // cannot hold it (DEFLATE expands at most 1,032 times). Both are refused before decoding.
    let wide = pngFile(width: 60_000, height: 60_000, depth: 8, colorType: 2, rows: [0, 1, 2, 3])
    XCTAssertThrowsError(try decodePNG(wide)) {
      XCTAssertTrue("\($0)".contains("60000x60000, 3600000000 pixels, more than this reader's limit"), "\($0)")
    }
    let lying = pngFile(width: 20_000, height: 10_000, depth: 8, colorType: 2, rows: [0, 1, 2, 3])
    XCTAssertThrowsError(try decodePNG(lying)) {
      XCTAssertTrue("\($0)".contains("more than its"), "\($0)")
    }
    XCTAssertThrowsError(try decodePNG([UInt8]("GIF89a".utf8))) {
      XCTAssertTrue("\($0)".contains("not a PNG"), "\($0)")
    }
  }

  /// Read resized while decoding, a row at a time, every file gives the same pixels as read
  /// whole and then resized: each fixture (interlaced and split IDATs among them), a PNG of
  /// many stored blocks and a PPM, to larger, smaller and equal sizes, gray and RGB.
  func testStreamingResizeMatchesWholeDecode() throws {
    let dir = NSTemporaryDirectory() + "png-stream-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var rng = SeededRandom(seed: 3)
    let big = try PixelImage(
      width: 301, height: 257, channels: 3, pixels: (0..<(301 * 257 * 3)).map { _ in UInt8(rng.nextInt(below: 256)) })
    var files = pngFixtures.keys.sorted().map { ($0 + ".png", fixture($0)) }
    files.append(("big.png", big.pngData()))
    files.append(("big.ppm", [UInt8]("P6\n301 257\n255\n".utf8) + big.pixels))
    for (name, bytes) in files {
      let path = dir + "/" + name
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let whole = try PixelImage(contentsOf: path)
      for (h, w, c) in [(7, 5, 3), (32, 32, 1), (whole.height, whole.width, whole.channels), (600, 40, 3)] {
        let streamed = try PixelImage(contentsOf: path, height: h, width: w, channels: c)
        XCTAssertEqual(streamed, try whole.resized(height: h, width: w, channels: c), "\(name) to \(h)x\(w)x\(c)")
      }
    }
  }

  /// Binary PGM and PPM, with comments and 16-bit samples; short files are refused.
  func testPNM() throws {
    let gray = try decodePNM([UInt8]("P5\n# a comment\n3 1\n255\n".utf8) + [0, 128, 255])
    XCTAssertEqual([gray.width, gray.height, gray.channels], [3, 1, 1])
    XCTAssertEqual(gray.pixels, [0, 128, 255])
    let rgb = try decodePNM([UInt8]("P6 1 1 65535 ".utf8) + [255, 255, 0, 0, 128, 0])
    XCTAssertEqual(rgb.pixels, [255, 0, 128])
    XCTAssertThrowsError(try decodePNM([UInt8]("P6 2 2 255\n".utf8) + [1, 2, 3])) {
      XCTAssertTrue("\($0)".contains("expected 12"), "\($0)")
    }
    XCTAssertThrowsError(try decodePNM([UInt8]("P5 x 2 255\n".utf8)))
    XCTAssertThrowsError(try decodePNM([UInt8]("P3 1 1 255\n1 2 3".utf8)))
  }

  /// Area averaging: halving averages 2×2 blocks; 3 → 2 weights the middle pixel half to
  /// each side; gray and RGB convert both ways.
  func testResize() throws {
    let image = try PixelImage(width: 4, height: 2, channels: 1, pixels: [0, 100, 200, 40, 20, 60, 0, 0])
    XCTAssertEqual(try image.resized(height: 1, width: 2, channels: 1).pixels, [45, 60])
    let row = try PixelImage(width: 3, height: 1, channels: 1, pixels: [0, 90, 30])
    // Output 0 covers pixel 0 and half of pixel 1: (0 + 45) / 1.5 = 30; output 1: (45 + 30) / 1.5 = 50.
    XCTAssertEqual(try row.resized(height: 1, width: 2, channels: 1).pixels, [30, 50])
    XCTAssertEqual(try row.resized(height: 1, width: 6, channels: 1).pixels, [0, 0, 90, 90, 30, 30])
    XCTAssertEqual(try row.resized(height: 1, width: 1, channels: 3).pixels, [40, 40, 40])
    let red = try PixelImage(width: 1, height: 1, channels: 3, pixels: [255, 0, 0])
    XCTAssertEqual(try red.resized(height: 1, width: 1, channels: 1).pixels, [76])
  }
}

/// A PNG with the given filtered rows, stored in one uncompressed deflate block.
func pngFile(width: Int, height: Int, depth: UInt8, colorType: UInt8, rows: [UInt8], palette: [UInt8]? = nil) -> [UInt8]
{
  func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
  func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
    be32(body.count) + [UInt8](type.utf8) + body + be32(Int(crc([UInt8](type.utf8) + body)))
  }
  var a: UInt32 = 1
  var b: UInt32 = 0
  for r in rows {
    a = (a + UInt32(r)) % 65521
    b = (b + a) % 65521
  }
  let n = rows.count
  let zlib =
    [0x78, 0x01, 1, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)] + rows
    + be32(Int(b << 16 | a))
  let header = be32(width) + be32(height) + [depth, colorType, 0, 0, 0]
  return [137, 80, 78, 71, 13, 10, 26, 10] + chunk("IHDR", header) + (palette.map { chunk("PLTE", $0) } ?? [])
    + chunk("IDAT", zlib) + chunk("IEND", [])
}

/// CRC-32 (PNG's), written out here independently of the decoder's.
func crc(_ bytes: [UInt8]) -> UInt32 {
  var c: UInt32 = 0xffff_ffff
  for byte in bytes {
    c ^= UInt32(byte)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
  }
  return ~c
}

/// The file with every whole chunk's CRC recomputed (a damaged length leaves the rest as is).
func withCorrectCRCs(_ file: [UInt8]) -> [UInt8] {
  var bytes = file
  var offset = 8
  while offset + 12 <= bytes.count {
    let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
    guard length <= bytes.count - offset - 12 else { break }
    let value = crc(Array(bytes[(offset + 4)..<(offset + 8 + length)]))
    for k in 0..<4 { bytes[offset + 8 + length + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * k)) }
    offset += 12 + length
  }
  return bytes
}

final class PNGEncoderTests: XCTestCase {
  /// Encoded images decode to themselves, gray and RGB, small and over one stored block.
  func testRoundTrip() throws {
    var rng = SeededRandom(seed: 9)
    for (w, h, c) in [(1, 1, 1), (5, 3, 3), (200, 150, 3)] {
      let image = try PixelImage(
        width: w, height: h, channels: c, pixels: (0..<(w * h * c)).map { _ in UInt8(rng.nextInt(below: 256)) })
      XCTAssertEqual(try decodePNG(image.pngData()), image)
    }
  }
}
