import Datasets
import Foundation
import Tensors
import XCTest

final class CIFAR10Tests: XCTestCase {
  /// A record with the given label whose red plane is r, green g, blue b at every pixel,
  /// except pixel 0 of red, which holds `first`.
  func record(label: UInt8, r: UInt8, g: UInt8, b: UInt8, first: UInt8) -> [UInt8] {
    var rec =
      [label] + [UInt8](repeating: r, count: 1024) + [UInt8](repeating: g, count: 1024)
      + [UInt8](repeating: b, count: 1024)
    rec[1] = first
    return rec
  }

  func tempDir() throws -> String {
    let dir = NSTemporaryDirectory() + "cifar-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
  }

  func testDecodesPlanesIntoNHWC() throws {
    var images: [UInt8] = []
    var labels: [UInt8] = []
    let bytes = record(label: 3, r: 10, g: 20, b: 30, first: 255) + record(label: 9, r: 1, g: 2, b: 3, first: 0)
    try CIFAR10.decode(bytes, name: "x", images: &images, labels: &labels)
    XCTAssertEqual(labels, [3, 9])
    XCTAssertEqual(Array(images[0..<6]), [255, 20, 30, 10, 20, 30])
    XCTAssertEqual(Array(images[3072..<3075]), [0, 2, 3])
    let ds = try ImageDataset(
      images: images, labels: labels, height: 32, width: 32, channels: 3, classNames: CIFAR10.defaultClassNames)
    let (x, y) = ds.batch([1, 0])
    XCTAssertEqual(x.shape, [2, 32, 32, 3])
    XCTAssertEqual(y, [9, 3])
    XCTAssertEqual(x[3072], 1, "pixel 255 becomes 1")
    XCTAssertEqual(x[3073], 20 / 255, accuracy: 1e-7)
  }

  func testRejectsBadSizesAndLabels() {
    var images: [UInt8] = []
    var labels: [UInt8] = []
    XCTAssertThrowsError(
      try CIFAR10.decode([UInt8](repeating: 0, count: 3072), name: "short.bin", images: &images, labels: &labels)
    ) {
      XCTAssertTrue("\($0)".contains("not a multiple of the 3073-byte record"), "\($0)")
    }
    XCTAssertThrowsError(try CIFAR10.decode([], name: "empty.bin", images: &images, labels: &labels))
    XCTAssertThrowsError(
      try CIFAR10.decode(
        record(label: 10, r: 0, g: 0, b: 0, first: 0), name: "bad.bin", images: &images, labels: &labels)
    ) {
      XCTAssertTrue("\($0)".contains("record 0 has label 10"), "\($0)")
    }
  }

  func testMissingDirectoryAndFiles() throws {
    XCTAssertThrowsError(try CIFAR10.load(directory: "/nonexistent/cifar", split: .train)) {
      XCTAssertTrue("\($0)".contains("does not exist; run Scripts/get-cifar10.sh"), "\($0)")
    }
    let dir = try tempDir()
    XCTAssertThrowsError(try CIFAR10.load(directory: dir, split: .test)) {
      XCTAssertTrue("\($0)".contains("missing CIFAR-10 file"), "\($0)")
    }
    XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/plain", contents: Data([1])))
    XCTAssertThrowsError(try CIFAR10.load(directory: dir + "/plain", split: .test)) {
      XCTAssertTrue("\($0)".contains("is a file, not a cifar-10-batches-bin directory"), "\($0)")
    }
    let rec = record(label: 1, r: 5, g: 6, b: 7, first: 8)
    XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/test_batch.bin", contents: Data(rec + rec + rec)))
    let ds = try CIFAR10.load(directory: dir, split: .test, limit: 2)
    XCTAssertEqual(ds.count, 2)
    XCTAssertEqual(ds.classNames[1], "automobile")
    XCTAssertTrue(
      FileManager.default.createFile(atPath: dir + "/test_batch.bin", contents: Data(rec + rec.dropLast(5))))
    XCTAssertThrowsError(try CIFAR10.load(directory: dir, split: .test)) {
      XCTAssertTrue("\($0)".contains("test_batch.bin' has 6141 bytes"), "\($0)")
    }
  }

  func testEpochOrderDependsOnSeedAndEpochOnly() throws {
    let ds = try ImageDataset(
      images: [UInt8](repeating: 0, count: 100 * 3), labels: [UInt8](repeating: 0, count: 100), height: 1, width: 1,
      channels: 3, classNames: ["a"])
    XCTAssertEqual(ds.epochOrder(seed: 1, epoch: 2), ds.epochOrder(seed: 1, epoch: 2))
    XCTAssertNotEqual(ds.epochOrder(seed: 1, epoch: 2), ds.epochOrder(seed: 1, epoch: 3))
    XCTAssertNotEqual(ds.epochOrder(seed: 1, epoch: 2), ds.epochOrder(seed: 2, epoch: 2))
    XCTAssertEqual(ds.epochOrder(seed: 1, epoch: 2).sorted(), Array(0..<100))
    XCTAssertEqual(ds.epochOrder(seed: 1, epoch: 2, shuffle: false), Array(0..<100))
  }

  /// Random and mutated byte strings never crash the reader: they decode or throw.
  func testFuzzDecoder() {
    var rng = SeededRandom(seed: 2024)
    let valid = record(label: 2, r: 1, g: 2, b: 3, first: 4) + record(label: 7, r: 9, g: 8, b: 7, first: 6)
    var decoded = 0
    var rejected = 0
    for i in 0..<10_000 {
      var bytes: [UInt8]
      switch i % 4 {
      case 0: bytes = (0..<rng.nextInt(below: 7000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      case 1: bytes = Array(valid.prefix(rng.nextInt(below: valid.count + 1)))
      case 2:
        bytes = valid
        for _ in 0..<(1 + rng.nextInt(below: 4)) {
          bytes[rng.nextInt(below: bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
        }
      default:
        bytes = valid + (0..<rng.nextInt(below: 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      }
      var images: [UInt8] = []
      var labels: [UInt8] = []
      do {
        try CIFAR10.decode(bytes, name: "fuzz", images: &images, labels: &labels)
        XCTAssertEqual(images.count, labels.count * 3072)
        decoded += 1
      } catch {
        rejected += 1
      }
    }
    XCTAssertGreaterThan(decoded, 0)
    XCTAssertGreaterThan(rejected, 0)
  }
}
