import CNN
import Foundation
import XCTest

/// A checkpoint written by the command before the library's redesign (recipes as values,
/// callbacks, the averaged tensors as a callback's state) still evaluates and resumes.
/// `Fixtures/tiny-lp-2026-12-02.safetensors` is `cnn train --model tiny --pooling lp
/// --pooling-p 3 --epochs 1 --seed 7` on `writeSyntheticCIFAR(train: 40, test: 100, seed: 1)`,
/// written by that day's main.
final class OldCheckpointTests: XCTestCase {
  let fixture = packageRoot + "/Tests/CommandTests/Fixtures/tiny-lp-2026-12-02.safetensors"
  let model = ["--model", "tiny", "--pooling", "lp", "--pooling-p", "3", "--seed", "7"]

  func testOldCheckpointEvaluatesAsWhenSaved() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 40, test: 100, seed: 1)
    let saved = try XCTUnwrap(SafeTensors.readMetadata(fixture)["metrics"])
    let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(saved.utf8)) as? [String: Double])
    let expected = String(
      format: "test_loss: %.4f - test_accuracy: %.4f", try XCTUnwrap(line["test_loss"]),
      try XCTUnwrap(line["test_accuracy"]))
    let r = try cnn(["evaluate", "--data", dir, "--checkpoint", fixture])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssert(r.out.contains(expected), "expected \(expected) in:\n\(r.out)")
  }

  func testOldCheckpointResumesAsAStraightRun() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 40, test: 100, seed: 1)
    let resumed = dir + "/resumed.safetensors"
    try FileManager.default.copyItem(atPath: fixture, toPath: resumed)
    let r = try cnn(["train", "--data", dir, "--epochs", "2", "--resume", "--checkpoint", resumed] + model)
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssert(r.out.contains("Resuming from"), r.out)
    let straight = dir + "/straight.safetensors"
    let s = try cnn(["train", "--data", dir, "--epochs", "2", "--checkpoint", straight] + model)
    XCTAssertEqual(s.status, 0, s.err)
    XCTAssertEqual(try readWeights(resumed), try readWeights(straight))
  }
}
