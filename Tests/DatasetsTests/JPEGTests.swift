import Datasets
import Foundation
import Tensors
import XCTest

/// Our JPEG decoder against libjpeg's own tools (cjpeg writes the files, djpeg decodes them
/// for reference): every sampling, baseline and progressive, restarts, gray, odd sizes.
/// These tests skip where libjpeg's tools are missing (CI installs them).
final class JPEGTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cjpeg"),
      FileManager.default.isExecutableFile(atPath: "/usr/bin/djpeg")
    else { throw XCTSkip("libjpeg's cjpeg and djpeg are not installed (Debian: libjpeg-turbo-progs)") }
    dir = NSTemporaryDirectory() + "jpeg-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  /// A picture with smooth areas, edges and noise, as a binary PPM.
  static func picture(width: Int, height: Int, seed: UInt64 = 1) -> [UInt8] {
    var rng = SeededRandom(seed: seed)
    var pixels: [UInt8] = []
    for y in 0..<height {
      for x in 0..<width {
        let edge = (x / 9 + y / 7) % 2 == 0 ? 60 : 0
        for c in 0..<3 {
          let wave = 100 + Int(60 * sin(Double(x * (c + 2)) / 11) * cos(Double(y) / 8))
          pixels.append(UInt8(clamping: wave + edge + rng.nextInt(below: 24)))
        }
      }
    }
    return [UInt8]("P6\n\(width) \(height)\n255\n".utf8) + pixels
  }

  /// Runs a tool with `input` on standard input; its standard output.
  static func tool(_ path: String, _ args: [String], input: [UInt8]) throws -> [UInt8] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let (stdin, stdout) = (Pipe(), Pipe())
    p.standardInput = stdin
    p.standardOutput = stdout
    p.standardError = FileHandle.nullDevice
    try p.run()
    let writer = Thread {
      stdin.fileHandleForWriting.write(Data(input))
      try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw XCTSkip("\(path) \(args) failed") }
    return [UInt8](out)
  }

  /// A JPEG written by cjpeg with `options`.
  static func jpeg(_ ppm: [UInt8], _ options: [String]) throws -> [UInt8] {
    try tool("/usr/bin/cjpeg", options, input: ppm)
  }

  /// libjpeg's decoding of `jpeg` (djpeg, default settings: accurate integer IDCT, smooth upsampling).
  static func reference(_ jpeg: [UInt8]) throws -> PixelImage {
    try decodePNM(try tool("/usr/bin/djpeg", ["-pnm"], input: jpeg))
  }

  /// Mean and largest absolute difference of two images' samples.
  static func difference(_ a: PixelImage, _ b: PixelImage) -> (mean: Double, max: Int) {
    let d = zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }
    return (Double(d.reduce(0, +)) / Double(max(1, d.count)), d.max() ?? 0)
  }

  func testMatchesLibjpegOnEveryKind() throws {
    let kinds: [[String]] = [
      ["-quality", "75"], ["-quality", "95", "-sample", "1x1"], ["-sample", "2x1"], ["-sample", "1x2"],
      ["-sample", "4x1"], ["-progressive"], ["-progressive", "-sample", "1x1", "-quality", "95"],
      ["-grayscale"], ["-grayscale", "-progressive"], ["-restart", "1"], ["-restart", "3B", "-progressive"],
      ["-optimize"], ["-quality", "100"], ["-quality", "10"],
    ]
    for (w, h) in [(67, 45), (8, 8), (1, 1), (17, 250), (32, 32)] {
      let ppm = Self.picture(width: w, height: h)
      for options in kinds {
        let file = try Self.jpeg(ppm, options)
        let ours = try decodeJPEG(file)
        let theirs = try Self.reference(file)
        XCTAssertEqual([ours.width, ours.height, ours.channels], [theirs.width, theirs.height, theirs.channels])
        let (mean, largest) = Self.difference(ours, theirs)
        XCTAssertLessThan(mean, 0.6, "\(w)x\(h) \(options)")
        XCTAssertLessThanOrEqual(largest, 6, "\(w)x\(h) \(options)")
      }
    }
  }

  /// What the decoder does not read is refused by name: arithmetic coding, 12-bit samples,
  /// lossless JPEG, four components; and a declared 65,535 x 65,535 image with a few bytes.
  func testRefusesWhatItDoesNotReadByName() throws {
    let ppm = Self.picture(width: 16, height: 16)
    let cases: [([UInt8], String)] = [
      (try Self.jpeg(ppm, ["-arithmetic"]), "arithmetic-coded JPEG"),
      (frame(marker: 0xC0, precision: 12, components: 3), "12-bit samples"),
      (frame(marker: 0xC3, precision: 8, components: 3), "lossless JPEG"),
      (frame(marker: 0xC0, precision: 8, components: 4), "4 components (CMYK or YCCK)"),
      (
        frame(marker: 0xC0, precision: 8, components: 3, side: 65535),
        "65535x65535, 4294836225 pixels, more than this reader's limit"
      ),
      (frame(marker: 0xC2, precision: 8, components: 1, side: 16000), "pixels read whole; read it resized"),
    ]
    for (bytes, message) in cases {
      let start = Date()
      XCTAssertThrowsError(try decodeJPEG(bytes)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
      XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }
  }

  /// SOI and a frame header with `components` components of 1x1 sampling, then EOI.
  private func frame(marker: UInt8, precision: UInt8, components: Int, side: Int = 16) -> [UInt8] {
    let body: [UInt8] =
      [precision, UInt8(side >> 8), UInt8(side & 255), UInt8(side >> 8), UInt8(side & 255), UInt8(components)]
      + (0..<components).flatMap { [UInt8($0 + 1), 0x11, 0] }
    return [0xFF, 0xD8, 0xFF, marker, 0, UInt8(body.count + 2)] + body + [0xFF, 0xD9]
  }

  /// An EXIF orientation turns the image upright: 6 (rotate 90° clockwise) and 3 (180°) give
  /// the unturned file's pixels rotated.
  func testEXIFOrientation() throws {
    let file = try Self.jpeg(Self.picture(width: 24, height: 16), ["-quality", "90"])
    let plain = try decodeJPEG(file)
    for orientation in [3, 6] {
      // APP1: "Exif\0\0", a little-endian TIFF header, one directory entry (0x0112, SHORT).
      let tiff: [UInt8] = [
        0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, UInt8(orientation), 0, 0, 0,
      ]
      let app1 = Array("Exif".utf8) + [0, 0] + tiff + [0, 0, 0, 0]
      let turned = try decodeJPEG([0xFF, 0xD8, 0xFF, 0xE1, 0, UInt8(app1.count + 2)] + app1 + file.dropFirst(2))
      let (w, h) = (plain.width, plain.height)
      XCTAssertEqual([turned.width, turned.height], orientation == 6 ? [h, w] : [w, h])
      for y in 0..<turned.height {
        for x in 0..<turned.width {
          let (sx, sy) = orientation == 6 ? (y, h - 1 - x) : (w - 1 - x, h - 1 - y)
          for k in 0..<3 {
            XCTAssertEqual(turned.pixels[(y * turned.width + x) * 3 + k], plain.pixels[(sy * w + sx) * 3 + k])
          }
        }
      }
    }
  }

  /// Decoding at 1/2, 1/4 or 1/8 (the scaled inverse DCT) for a small target stays close to
  /// decoding whole and then resizing.
  func testScaledDecodingForSmallTargets() throws {
    for options in [["-sample", "2x2"], ["-sample", "1x1"], ["-progressive"], ["-grayscale"]] {
      let path = dir + "/photo.jpg"
      try Data(try Self.jpeg(Self.picture(width: 400, height: 300, seed: 5), options)).write(
        to: URL(fileURLWithPath: path))
      let whole = try PixelImage(contentsOf: path)
      for (h, w) in [(32, 32), (60, 80), (150, 200)] {
        let scaled = try PixelImage(contentsOf: path, height: h, width: w, channels: whole.channels)
        let (mean, _) = Self.difference(scaled, try whole.resized(height: h, width: w, channels: whole.channels))
        XCTAssertLessThan(mean, 2, "\(options) to \(h)x\(w)")
      }
    }
  }

  /// 3,000 damaged files (bytes changed, inserted, cut; lying headers) each decode or end in
  /// an `ImageFileError`: never a crash, a hang or a huge allocation.
  func testMutatedFilesFailCleanly() throws {
    let ppm = Self.picture(width: 40, height: 24)
    let originals = try [["-quality", "75"], ["-progressive"], ["-restart", "1", "-sample", "1x1"], ["-grayscale"]]
      .map { try Self.jpeg(ppm, $0) }
    var rng = SeededRandom(seed: 11)
    var tally = DecodeTally()
    for trial in 0..<3000 {
      let bytes = damaged(originals[trial % originals.count], after: 2, truncating: true, &rng)
      try tally.record { try decodeJPEG(bytes) }
    }
    tally.check("JPEG mutations", trials: 3000, minimumRefused: 500)
  }

  /// CIFAR-10 test images (when Datasets/ has them) written by cjpeg in seven ways, decoded by
  /// us and by djpeg: the mean and largest difference per channel stay small. The count is
  /// CNN_JPEG_SAMPLES (default 300 a kind).
  func testCIFAR10ImagesAgainstLibjpeg() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().path
    let data = root + "/Datasets/cifar-10-batches-bin"
    guard FileManager.default.fileExists(atPath: data + "/test_batch.bin") else {
      throw XCTSkip("no CIFAR-10 in \(data)")
    }
    let count = Int(ProcessInfo.processInfo.environment["CNN_JPEG_SAMPLES"] ?? "") ?? 300
    let test = try CIFAR10.load(directory: data, split: .test, limit: count)
    let kinds: [(String, [String])] = [
      ("q75 baseline 4:2:0", ["-quality", "75"]), ("q95 baseline 4:2:0", ["-quality", "95"]),
      ("q75 baseline 4:4:4", ["-quality", "75", "-sample", "1x1"]),
      ("q95 baseline 4:4:4", ["-quality", "95", "-sample", "1x1"]),
      ("q75 progressive 4:2:0", ["-quality", "75", "-progressive"]),
      ("q95 progressive 4:4:4", ["-quality", "95", "-progressive", "-sample", "1x1"]),
      ("q75 grayscale", ["-quality", "75", "-grayscale"]),
    ]
    for i in 0..<count {
      let ppm = [UInt8]("P6\n32 32\n255\n".utf8) + test.images[(i * 3072)..<((i + 1) * 3072)]
      try Data(ppm).write(to: URL(fileURLWithPath: "\(dir)/\(i).ppm"))
    }
    for (name, options) in kinds {
      // One shell for all the files: cjpeg writes each, djpeg decodes it for reference.
      let script =
        "for i in $(seq 0 \(count - 1)); do cjpeg \(options.joined(separator: " ")) \(dir)/$i.ppm > \(dir)/$i.jpg"
        + " && djpeg -pnm \(dir)/$i.jpg > \(dir)/$i.ref || exit 1; done"
      XCTAssertEqual(try Self.tool("/bin/sh", ["-c", script], input: []), [])
      var (sums, largest, samples) = ([Double](repeating: 0, count: 3), [0, 0, 0], 0)
      for i in 0..<count {
        let ours = try PixelImage(contentsOf: "\(dir)/\(i).jpg")
        let theirs = try PixelImage(contentsOf: "\(dir)/\(i).ref")
        XCTAssertEqual(ours.pixels.count, theirs.pixels.count)
        for (k, (a, b)) in zip(ours.pixels, theirs.pixels).enumerated() {
          let (c, d) = (k % ours.channels, abs(Int(a) - Int(b)))
          sums[c] += Double(d)
          largest[c] = max(largest[c], d)
        }
        samples += ours.pixels.count / ours.channels
      }
      let means = sums.map { $0 / Double(samples) }
      let shown = zip(means, largest).prefix(options.contains("-grayscale") ? 1 : 3)
      print(
        "JPEG \(name), \(count) images, ours vs djpeg per channel (mean, max): \(shown.map { String(format: "%.3f, %d", $0.0, $0.1) })"
      )
      XCTAssertLessThan(means.max()!, 0.5, name)
      XCTAssertLessThanOrEqual(largest.max()!, 8, name)
    }
  }
}
