import CNN
import Foundation
import XCTest

final class CheckpointTests: XCTestCase {
  func testRoundTrip() throws {
    let model = try smallModel(seed: 1)
    model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
    try model.fit(try barsDataset(count: 32, seed: 1), epochs: 1, batchSize: 8)
    let path = tempPath("model.safetensors")
    try model.save(to: path, epoch: 4, metadata: ["seed": "1"])
    XCTAssertFalse(
      try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).contains {
        $0.contains(".tmp-") && $0.contains((path as NSString).lastPathComponent)
      })
    let other = try smallModel(seed: 2)
    XCTAssertNotEqual(weights(other), weights(model))
    let ck = try other.load(from: path)
    XCTAssertEqual(ck.epoch, 4)
    XCTAssertEqual(ck.metadata["seed"], "1")
    XCTAssertEqual(ck.metadata["format"], Checkpoint.formatName)
    XCTAssertEqual(weights(other), weights(model))
  }

  func testFileLayoutIsSafetensors() throws {
    // 8-byte little-endian header length, JSON header padded to 8 bytes, then raw F32 data.
    let t = try Tensor(shape: [2], values: [1, -2])
    let bytes = SafeTensors.encode(["w": t])
    let n = Int(bytes[0]) | Int(bytes[1]) << 8
    XCTAssertEqual(Array(bytes[2..<8]), [0, 0, 0, 0, 0, 0])
    XCTAssertEqual(n % 8, 0)
    let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
    XCTAssertEqual(
      header.trimmingCharacters(in: .whitespaces), #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#)
    XCTAssertEqual(Array(bytes[(8 + n)...]), [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
  }

  func testLoadRejectsMismatches() throws {
    let path = tempPath("other.safetensors")
    let big = try Sequential(inputShape: [6, 6, 1]) {
      Conv2D(filters: 5, kernelSize: (3, 3), activation: .relu)
      MaxPooling2D()
      Flatten()
      Dense(units: 2, activation: .softmax)
    }
    try big.save(to: path)
    let model = try smallModel()
    let before = weights(model)
    XCTAssertThrowsError(try model.load(from: path)) {
      XCTAssertTrue("\($0)".contains("conv2d.kernel has shape [3, 3, 1, 5], the model expects [3, 3, 1, 4]"), "\($0)")
    }
    XCTAssertEqual(weights(model), before, "a failed load changes nothing")
    var tensors = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.variable.value) })
    tensors["extra.kernel"] = Tensor(zeros: [1])
    try SafeTensors.write(tensors, to: path)
    XCTAssertThrowsError(try model.load(from: path)) { XCTAssertTrue("\($0)".contains("extra.kernel"), "\($0)") }
    tensors["extra.kernel"] = nil
    tensors["dense.bias"] = nil
    try SafeTensors.write(tensors, to: path)
    XCTAssertThrowsError(try model.load(from: path)) {
      XCTAssertTrue("\($0)".contains("no tensor for dense.bias"), "\($0)")
    }
    XCTAssertThrowsError(try model.load(from: tempPath("missing"))) {
      XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
    }
  }

  func testCorruptFilesGiveClearErrors() throws {
    let good = SafeTensors.encode(["w": try Tensor(shape: [2, 2], values: [1, 2, 3, 4])])
    func error(_ bytes: [UInt8]) -> String {
      do {
        _ = try SafeTensors.decode(bytes)
        return "no error"
      } catch { return "\(error)" }
    }
    XCTAssertTrue(error(Array(good.prefix(5))).contains("too short"))
    XCTAssertTrue(error(Array(good.dropLast(1))).contains("outside the"))
    var huge = good
    huge[7] = 0x7F
    XCTAssertTrue(error(huge).contains("header length"))
    var badJSON = good
    badJSON[8] = UInt8(ascii: "[")
    XCTAssertTrue(error(badJSON).contains("JSON"))
    func withHeader(_ json: String, data: Int) -> [UInt8] {
      var h = Array(json.utf8)
      while h.count % 8 != 0 { h.append(0x20) }
      var out = [UInt8](repeating: 0, count: 8)
      for i in 0..<8 { out[i] = UInt8((h.count >> (8 * i)) & 0xFF) }
      return out + h + [UInt8](repeating: 0, count: data)
    }
    XCTAssertTrue(
      error(withHeader(#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4)).contains("dtype F16"))
    XCTAssertTrue(
      error(withHeader(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)).contains("needs 12 bytes"))
    XCTAssertTrue(
      error(withHeader(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}"#, data: 8)).contains("no valid shape")
    )
    XCTAssertTrue(
      error(withHeader(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, data: 8)).contains("outside"))
    XCTAssertTrue(
      error(withHeader(#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: 8))
        .contains("shape"))
    XCTAssertTrue(error(withHeader(#"{"w":5}"#, data: 0)).contains("not an object"))
    XCTAssertTrue(error(withHeader(#"{"__metadata__":{"a":1}}"#, data: 0)).contains("not a string"))
  }

  /// 10,000 random and mutated files: each decodes or throws, none crashes.
  func testFuzzReader() throws {
    let model = try smallModel()
    let tensors = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.variable.value) })
    let valid = SafeTensors.encode(tensors, metadata: ["epoch": "1"])
    let headerLength = Int(valid[0]) | Int(valid[1]) << 8
    var rng = SeededRandom(seed: 77)
    var outcomes = [0, 0]
    for i in 0..<10_000 {
      var bytes = valid
      switch i % 5 {
      case 0: bytes = (0..<rng.nextInt(below: 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      case 1: bytes = Array(valid.prefix(rng.nextInt(below: valid.count)))
      case 2:
        // Flip bytes inside the JSON header.
        for _ in 0..<(1 + rng.nextInt(below: 3)) {
          bytes[8 + rng.nextInt(below: headerLength)] = UInt8(truncatingIfNeeded: rng.next())
        }
      case 3:
        // Huge or random header lengths.
        for b in 0..<8 { bytes[b] = UInt8(truncatingIfNeeded: rng.next()) }
        if rng.nextInt(below: 2) == 0 { bytes[5] = 0; bytes[6] = 0; bytes[7] = 0 }
      default:
        // Bad offsets: rewrite digits in the header.
        let digits = (8..<(8 + headerLength)).filter { (48...57).contains(bytes[$0]) }
        for _ in 0..<(1 + rng.nextInt(below: 3)) {
          bytes[digits[rng.nextInt(below: digits.count)]] = UInt8(48 + rng.nextInt(below: 10))
        }
      }
      do {
        _ = try SafeTensors.decode(bytes)
        outcomes[0] += 1
      } catch {
        outcomes[1] += 1
      }
    }
    XCTAssertGreaterThan(outcomes[1], 5000)
  }
}
