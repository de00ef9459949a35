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
  }
}
