import CNN
import Foundation
import XCTest

/// `cnn train|evaluate --data FOLDER` and `cnn predict` on image files.
final class ImageCommandTests: XCTestCase {
  /// A binary PPM of 32×32 pixels, all of one colour.
  private func ppm(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Data {
    Data("P6\n32 32\n255\n".utf8) + Data((0..<1024).flatMap { _ in [r, g, b] })
  }

  /// Bright and dark images in two class folders: the tiny model learns them, evaluate
  /// reproduces the held-out accuracy, predict names the class of new files and reports an
  /// unreadable one without stopping.
  func testTrainEvaluateAndPredictOnAnImageFolder() throws {
    let dir = try temporaryDirectory(self)
    let fm = FileManager.default
    for (name, base) in [("bright", 200), ("dark", 30)] {
      try fm.createDirectory(atPath: "\(dir)/images/\(name)", withIntermediateDirectories: true)
      for i in 0..<20 {
        let v = UInt8(base + i)
        try ppm(v, v / 2, v).write(to: URL(fileURLWithPath: "\(dir)/images/\(name)/\(i).ppm"))
      }
    }
    let ck = "\(dir)/m.safetensors"
    let t = try cnn([
      "train", "--data", "\(dir)/images", "--model", "tiny", "--epochs", "6", "--batch-size", "8", "--checkpoint", ck,
    ])
    XCTAssertEqual(t.status, 0, t.err)
    XCTAssertTrue(t.out.contains("on 32 images, testing on 8"), t.out)
    let accuracy = try XCTUnwrap(t.out.split(separator: "\n").last { $0.hasPrefix("epoch 6") })
    let e = try cnn(["evaluate", "--data", "\(dir)/images", "--checkpoint", ck])
    XCTAssertEqual(e.status, 0, e.err)
    let printed = try XCTUnwrap(accuracy.components(separatedBy: " - ").first { $0.hasPrefix("test_accuracy") })
    XCTAssertTrue(e.out.contains(printed), "\(printed) in \(e.out)")
    XCTAssertTrue(e.out.contains("bright") && e.out.contains("dark"), e.out)
    try ppm(230, 115, 230).write(to: URL(fileURLWithPath: "\(dir)/new-bright.ppm"))
    try Data("P6 2 2 255\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/short.ppm"))
    let p = try cnn(["predict", "--checkpoint", ck, "--top", "2", "\(dir)/new-bright.ppm", "\(dir)/short.ppm"])
    XCTAssertEqual(p.status, 1, "one file could not be read")
    XCTAssertTrue(p.out.hasPrefix("\(dir)/new-bright.ppm: bright "), p.out)
    XCTAssertTrue(p.out.contains("%, dark "), p.out)
    XCTAssertTrue(p.err.contains("short.ppm"), p.err)
    XCTAssertEqual(try cnn(["predict", "--checkpoint", ck]).status, 2, "no files")
    // The checkpoint's classes are not another folder's, and a report on data that does not fit
    // the model says so instead of failing.
    try fm.createDirectory(atPath: "\(dir)/other/x", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: "\(dir)/other/y", withIntermediateDirectories: true)
    try ppm(1, 2, 3).write(to: URL(fileURLWithPath: "\(dir)/other/x/a.ppm"))
    try ppm(1, 2, 3).write(to: URL(fileURLWithPath: "\(dir)/other/y/b.ppm"))
    let wrong = try cnn(["evaluate", "--data", "\(dir)/other", "--test-data", "\(dir)/other", "--checkpoint", ck])
    XCTAssertEqual(wrong.status, 1)
    XCTAssertTrue(wrong.err.contains("trained on the classes bright, dark"), wrong.err)
    try fm.createDirectory(atPath: "\(dir)/other/z", withIntermediateDirectories: true)
    try ppm(1, 2, 3).write(to: URL(fileURLWithPath: "\(dir)/other/z/c.ppm"))
    let report = try cnn(
      [
        "report", "--data", "\(dir)/other", "--test-data", "\(dir)/other", "--checkpoint", ck, "--output",
        "\(dir)/r.html",
      ])
    XCTAssertEqual(report.status, 0, report.err)
    XCTAssertTrue(try String(contentsOfFile: "\(dir)/r.html", encoding: .utf8).contains("No test data"))
  }

  /// A folder that mixes JPEG (written by libjpeg's cjpeg, baseline and progressive), PNG and
  /// PPM files trains and evaluates, and predict reads a large JPEG photo resized as it decodes.
  func testMixedFolderWithJPEGs() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cjpeg") else {
      throw XCTSkip("libjpeg's cjpeg is not installed (Debian: libjpeg-turbo-progs)")
    }
    let dir = try temporaryDirectory(self)
    let fm = FileManager.default
    func cjpeg(_ ppm: Data, _ options: [String], to path: String) throws {
      let input = dir + "/in.ppm"
      try ppm.write(to: URL(fileURLWithPath: input))
      let r = try runProcess("/usr/bin/cjpeg", options + ["-outfile", path, input])
      XCTAssertEqual(r.status, 0, r.err)
    }
    for (name, base) in [("bright", 200), ("dark", 30)] {
      try fm.createDirectory(atPath: "\(dir)/images/\(name)", withIntermediateDirectories: true)
      for i in 0..<12 {
        let v = UInt8(base + i)
        let (picture, path) = (ppm(v, v / 2, v), "\(dir)/images/\(name)/\(i)")
        switch i % 3 {
        case 0: try picture.write(to: URL(fileURLWithPath: path + ".ppm"))
        case 1: try cjpeg(picture, ["-quality", "90"], to: path + ".jpg")
        default: try cjpeg(picture, ["-progressive"], to: path + ".JPEG")
        }
      }
    }
    let ck = "\(dir)/m.safetensors"
    let t = try cnn([
      "train", "--data", "\(dir)/images", "--model", "tiny", "--epochs", "6", "--batch-size", "8", "--checkpoint", ck,
    ])
    XCTAssertEqual(t.status, 0, t.err)
    XCTAssertTrue(t.out.contains("on 20 images, testing on 4"), t.out)
    let photo = Data("P6\n2000 1500\n255\n".utf8) + Data(repeating: 220, count: 2000 * 1500 * 3)
    try cjpeg(photo, ["-quality", "80"], to: dir + "/photo.jpg")
    let p = try cnn(["predict", "--checkpoint", ck, dir + "/photo.jpg"])
    XCTAssertEqual(p.status, 0, p.err)
    XCTAssertTrue(p.out.hasPrefix("\(dir)/photo.jpg: bright "), p.out)
    // A name with a newline still gives one line, the name escaped.
    try FileManager.default.copyItem(atPath: dir + "/photo.jpg", toPath: dir + "/new\nline.jpg")
    let odd = try cnn(["predict", "--checkpoint", ck, dir + "/new\nline.jpg"])
    XCTAssertEqual(odd.status, 0, odd.err)
    XCTAssertEqual(odd.out.split(separator: "\n").count, 1, odd.out)
    XCTAssertTrue(odd.out.hasPrefix("'\(dir)/new\\nline.jpg': bright "), odd.out)
  }
}

/// `cnn export`.
final class ExportCommandTests: XCTestCase {
  /// A trained checkpoint is written as an ONNX file (a protobuf ModelProto that names its
  /// producer); a checkpoint that is missing and an output that cannot be written are errors.
  func testExportWritesAnONNXFile() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 8, test: 8)
    let ck = dir + "/m.safetensors"
    XCTAssertEqual(try cnn(["train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", ck]).status, 0)
    let r = try cnn(["export", "--checkpoint", ck, "--output", dir + "/m.onnx"])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssertTrue(r.out.contains("input [N, 32, 32, 3] NHWC, output [N, 10]"), r.out)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/m.onnx")))
    XCTAssertEqual(bytes.first, 0x08, "ModelProto starts with ir_version")
    XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains("CNN (Swift)"))
    let missing = try cnn(["export", "--checkpoint", dir + "/none.safetensors", "--output", dir + "/x.onnx"])
    XCTAssertEqual(missing.status, 1, missing.err)
    let folder = try cnn(["export", "--checkpoint", ck, "--output", dir])
    XCTAssertEqual(folder.status, 2, folder.err)
    XCTAssertTrue(folder.err.contains("the ONNX file '\(dir)' is a directory"), folder.err)
    try FileManager.default.createSymbolicLink(atPath: dir + "/loop1", withDestinationPath: dir + "/loop2")
    try FileManager.default.createSymbolicLink(atPath: dir + "/loop2", withDestinationPath: dir + "/loop1")
    let loop = try cnn(["export", "--checkpoint", ck, "--output", dir + "/loop1"])
    XCTAssertEqual(loop.status, 2, loop.err)
    XCTAssertTrue(loop.err.contains("is a loop of symbolic links"), loop.err)
    XCTAssertNotNil(try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/loop2"), "the links stay")
    XCTAssertEqual(folder.err.split(separator: "\n").count, 1, folder.err)
  }
}

/// `cnn report`.
final class ReportCommandTests: XCTestCase {
  /// After a short run: a self-contained file of every section, its pictures valid PNGs that
  /// are not blank, its charts and heat map whole SVG; without the checkpoint, a report of the
  /// log alone that says what is missing; with neither, an error.
  func testReportOfARun() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 200, test: 60)
    let ck = "\(dir)/m.safetensors"
    XCTAssertEqual(try cnn(["train", "--data", dir, "--model", "tiny", "--epochs", "2", "--checkpoint", ck]).status, 0)
    let r = try cnn(["report", "--data", dir, "--checkpoint", ck, "--output", "\(dir)/r.html"])
    XCTAssertEqual(r.status, 0, r.err)
    let html = try String(contentsOfFile: "\(dir)/r.html", encoding: .utf8)
    XCTAssertLessThan(html.utf8.count, 3 << 20)
    for section in [
      "The run", "Training curves", "Test set: 60 images", "Misclassified test images", "First convolution's filters",
      "Feature maps of test image 0", "Model: &quot;sequential&quot;",
    ] {
      XCTAssertTrue(html.contains(section), section)
    }
    XCTAssertFalse(html.contains("<script") || html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"))
    XCTAssertEqual(html.components(separatedBy: "<svg").count, html.components(separatedBy: "</svg>").count)
    XCTAssertEqual(html.components(separatedBy: "<polyline").count - 1, 4, "loss and accuracy, training and test")
    let images = html.components(separatedBy: "data:image/png;base64,").dropFirst().map {
      String($0.prefix { $0 != "\"" })
    }
    XCTAssertGreaterThan(images.count, 10)
    // Pictures with something in them (a channel that ReLU silenced for this image is one flat
    // gray, so a few may be blank).
    let blank = try images.filter { b64 in
      Set(try decodePNG([UInt8](try XCTUnwrap(Data(base64Encoded: b64)))).pixels).count == 1
    }
    XCTAssertLessThan(blank.count * 5, images.count, "\(blank.count) of \(images.count) pictures blank")
    try FileManager.default.removeItem(atPath: ck)
    let logOnly = try cnn(["report", "--checkpoint", ck, "--output", "\(dir)/r2.html"])
    XCTAssertEqual(logOnly.status, 0, logOnly.err)
    let text = try String(contentsOfFile: "\(dir)/r2.html", encoding: .utf8)
    XCTAssertTrue(text.contains("No checkpoint at") && text.contains("Training curves"), text)
    // A diverged run's log (NaN and huge losses) still gives a report.
    try """
    {"epoch":1,"loss":2.5,"accuracy":0.1}
    {"epoch":2,"loss":1.7e308,"accuracy":0.1}
    {"epoch":3,"loss":NaN,"accuracy":0.1}
    """.write(toFile: "\(dir)/m.metrics.jsonl", atomically: true, encoding: .utf8)
    XCTAssertEqual(try cnn(["report", "--checkpoint", ck, "--output", "\(dir)/r4.html"]).status, 0)
    let nothing = try cnn(["report", "--checkpoint", "\(dir)/none.safetensors", "--output", "\(dir)/r3.html"])
    XCTAssertEqual(nothing.status, 1)
    XCTAssertTrue(nothing.err.contains("nothing to report"), nothing.err)
  }
}

/// The report opened in a real browser, when one is installed (`.ci/run` installs Debian's
/// chromium where it can): the page renders without script errors to a screenshot whose
/// regions with charts and pictures are not blank.
final class ReportBrowserTests: XCTestCase {
  func testReportRendersInHeadlessChromium() throws {
    let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    guard let browser = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
      throw XCTSkip("no chromium on this machine")
    }
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 200, test: 60)
    let ck = "\(dir)/m.safetensors"
    XCTAssertEqual(try cnn(["train", "--data", dir, "--model", "tiny", "--epochs", "2", "--checkpoint", ck]).status, 0)
    XCTAssertEqual(try cnn(["report", "--data", dir, "--checkpoint", ck, "--output", "\(dir)/r.html"]).status, 0)
    let shot = "\(dir)/shot.png"
    let r = try runProcess(
      browser,
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,4000",
        "--enable-logging=stderr", "--v=0", "--screenshot=\(shot)", "file://\(dir)/r.html",
      ])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssertFalse(r.err.contains("Uncaught"), r.err)
    let image = try PixelImage(contentsOf: shot)
    XCTAssertEqual(image.width, 1280)
    // Bands of 200 rows down the page: most hold more than the background's one colour.
    let bands = stride(from: 0, to: image.height, by: 200).map { top in
      Set(
        image.pixels[
          (top * image.width * image.channels)..<(min(image.height, top + 200) * image.width * image.channels)]
      )
      .count
    }
    XCTAssertGreaterThan(bands.filter { $0 > 8 }.count, 5, "bands with something drawn: \(bands)")
  }
}
