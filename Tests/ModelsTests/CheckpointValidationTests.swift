import CNN
import Foundation
import XCTest

/// A checkpoint whose layout or metadata would load wrong values is refused with a message
/// that says what is wrong, never half-loaded.
final class CheckpointValidationTests: XCTestCase {
  /// A header whose spans are given by hand over `dataBytes` bytes of data.
  func file(spans: [(String, Int, Int)], dataBytes: Int, metadata: String = "") -> [UInt8] {
    var entries = spans.map { name, begin, end in
      "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\((end - begin) / 4)],\"data_offsets\":[\(begin),\(end)]}"
    }
    if !metadata.isEmpty { entries.append("\"__metadata__\":{\(metadata)}") }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    var out = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
    out += header
    out += (0..<dataBytes).map { UInt8(truncatingIfNeeded: $0) }
    return out
  }

  func testSpansMustTileTheDataExactly() throws {
    XCTAssertNoThrow(try SafeTensors.decode(file(spans: [("a", 0, 8), ("b", 8, 16)], dataBytes: 16)))
    XCTAssertNoThrow(try SafeTensors.decode(file(spans: [("b", 8, 16), ("a", 0, 8), ("e", 8, 8)], dataBytes: 16)))
    let cases: [([(String, Int, Int)], Int, String)] = [
      ([("a", 0, 8), ("b", 4, 12)], 12, "tensor b spans bytes 4..<12, overlapping a"),
      ([("a", 0, 8), ("b", 0, 8)], 8, "overlapping a"),
      ([("a", 0, 8), ("b", 12, 16)], 16, "bytes 8..<12 belong to no tensor (before b)"),
      ([("a", 4, 8)], 8, "bytes 0..<4 belong to no tensor (before a)"),
      ([("a", 0, 8)], 12, "bytes 8..<12 at the end belong to no tensor"),
    ]
    for (spans, n, message) in cases {
      XCTAssertThrowsError(try SafeTensors.decode(file(spans: spans, dataBytes: n)), "\(spans)") {
        XCTAssertTrue("\($0)".contains(message), "\(spans): \($0)")
      }
    }
  }

  /// Thousands of entries over the same bytes are refused before any tensor is allocated.
  func testOverlappingSpansAreRefusedBeforeAllocating() throws {
    let spans = (0..<5_000).map { ("t\($0)", 0, 4096) }
    XCTAssertThrowsError(try SafeTensors.decode(file(spans: spans, dataBytes: 4096))) {
      XCTAssertTrue("\($0)".contains("overlapping"), "\($0)")
    }
  }

  /// The metadata alone, from the header: the same as a whole read, and the same errors.
  func testReadMetadataReadsTheHeaderOnly() throws {
    let model = try smallModel()
    let path = tempPath("header.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.save(to: path, epoch: 7, metadata: ["model": "small"])
    XCTAssertEqual(try SafeTensors.readMetadata(path), try SafeTensors.read(path).metadata)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    try Data(bytes.prefix(20)).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try SafeTensors.readMetadata(path)) {
      XCTAssertTrue("\($0)".contains("header length"), "\($0)")
    }
    XCTAssertThrowsError(try SafeTensors.readMetadata(path + ".none")) {
      XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
    }
  }

  func testResumeMetadataIsValidated() throws {
    let model = try smallModel()
    model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    try model.fit(try barsDataset(count: 8, seed: 1), epochs: 1, batchSize: 8)
    let path = tempPath("meta.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    func saved(_ metadata: [String: String]) throws -> [String: String] {
      try model.save(to: path, epoch: 3)
      var (tensors, meta) = try SafeTensors.read(path)
      for (k, v) in metadata { meta[k] = v }
      try SafeTensors.write(tensors, metadata: meta, to: path)
      return meta
    }
    _ = try saved([:])
    XCTAssertEqual(try model.load(from: path, restoreOptimizer: true).epoch, 3)
    let bad: [(String, String)] = [
      ("epoch", "abc"), ("epoch", "-1"), ("epoch", "3.5"), ("epoch", "99999999999"),
      ("optimizer.iterations", "9223372036854775807"), ("optimizer.iterations", "-4"), ("optimizer.iterations", ""),
    ]
    for (key, value) in bad {
      _ = try saved([key: value])
      let before = weights(model)
      XCTAssertThrowsError(try model.load(from: path, restoreOptimizer: true), "\(key)=\(value)") {
        XCTAssertTrue("\($0)".contains("metadata \(key) is '\(value)', expected a whole number"), "\($0)")
      }
      XCTAssertEqual(weights(model), before)
    }
  }

  /// 2,000 random metadata values: each loads within bounds or is refused; none traps.
  func testFuzzResumeMetadata() throws {
    let model = try smallModel()
    model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    try model.fit(try barsDataset(count: 8, seed: 1), epochs: 1, batchSize: 8)
    let path = tempPath("fuzz.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.save(to: path, epoch: 1)
    let (tensors, base) = try SafeTensors.read(path)
    var rng = SeededRandom(seed: 19)
    let pieces = ["0", "1", "-", "9", "e", " ", "+", "0x", "9223372036854775807", "1099511627776", ".", "abc"]
    var refused = 0
    for i in 0..<2_000 {
      var meta = base
      let value = (0..<(1 + rng.nextInt(below: 3))).map { _ in pieces[rng.nextInt(below: pieces.count)] }.joined()
      meta[i % 2 == 0 ? "epoch" : "optimizer.iterations"] = value
      try SafeTensors.write(tensors, metadata: meta, to: path)
      do {
        let ck = try model.load(from: path, restoreOptimizer: true)
        XCTAssertTrue((0...Checkpoint.maxEpoch).contains(ck.epoch))
      } catch {
        refused += 1
      }
    }
    XCTAssertGreaterThan(refused, 500)
  }

  func testDataFingerprint() throws {
    let a = try barsDataset(count: 20, seed: 1)
    XCTAssertEqual(a.fingerprint, try barsDataset(count: 20, seed: 1).fingerprint)
    XCTAssertEqual(a.fingerprint.count, 16)
    XCTAssertNotEqual(a.fingerprint, try barsDataset(count: 20, seed: 2).fingerprint)
    var images = a.images
    images[images.count - 1] ^= 1
    let changed = try ImageDataset(
      images: images, labels: a.labels, height: 6, width: 6, channels: 1, classNames: a.classNames)
    XCTAssertNotEqual(a.fingerprint, changed.fingerprint, "one bit of the last image")
    var labels = a.labels
    labels[0] ^= 1
    let relabelled = try ImageDataset(
      images: a.images, labels: labels, height: 6, width: 6, channels: 1, classNames: a.classNames)
    XCTAssertNotEqual(a.fingerprint, relabelled.fingerprint)
  }

  /// A weight that is NaN or infinite is damage (training stops before saving one): refused
  /// by name, not loaded into predictions of "nan%".
  func testNonFiniteWeightsAreRefused() throws {
    let model = try smallModel()
    let path = tempPath("nan.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.save(to: path)
    var (tensors, metadata) = try SafeTensors.read(path)
    let name = try XCTUnwrap(tensors.keys.sorted().first { !$0.hasPrefix("optimizer.") })
    let t = try XCTUnwrap(tensors[name])
    t.data[0] = .nan
    tensors[name] = t
    try SafeTensors.write(tensors, metadata: metadata, to: path)
    XCTAssertThrowsError(try smallModel().load(from: path)) {
      XCTAssertTrue("\($0)".contains("\(name) holds values that are not finite"), "\($0)")
    }
  }
}
