import CNN
import Foundation
import XCTest

/// A checkpoint as the command wrote it before the library's redesign (flat metadata strings,
/// the pooling recorded beside the model's config, floats in the config as doubles) still
/// evaluates and resumes. `Fixtures/tiny-lp-2026-12-02.metadata.json` is the metadata of
/// `cnn train --model tiny --pooling lp --pooling-p 3 --epochs 1 --seed 7` on
/// `writeSyntheticCIFAR(train: 40, test: 100, seed: 1)`, written by that day's main. Its
/// tensors were the same bytes this version trains (weights and optimizer state), so the
/// old file is that run's tensors under the old metadata.
final class OldCheckpointTests: XCTestCase {
  let model = ["--model", "tiny", "--pooling", "lp", "--pooling-p", "3", "--seed", "7"]

  /// The data, and the checkpoint the old version wrote on it.
  func oldCheckpoint() throws -> (data: String, checkpoint: String, metadata: [String: String]) {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 40, test: 100, seed: 1)
    let fixture = packageRoot + "/Tests/CommandTests/Fixtures/tiny-lp-2026-12-02.metadata.json"
    let metadata = try JSONDecoder().decode(
      [String: String].self, from: Data(contentsOf: URL(fileURLWithPath: fixture)))
    let checkpoint = dir + "/old.safetensors"
    let r = try cnn(["train", "--data", dir, "--epochs", "1", "--checkpoint", checkpoint] + model)
    XCTAssertEqual(r.status, 0, r.err)
    try SafeTensors.write(try SafeTensors.read(checkpoint).tensors, metadata: metadata, to: checkpoint)
    return (dir, checkpoint, metadata)
  }

  func testOldCheckpointEvaluatesAsWhenSaved() throws {
    let (dir, checkpoint, metadata) = try oldCheckpoint()
    let saved = try XCTUnwrap(metadata["metrics"])
    let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(saved.utf8)) as? [String: Double])
    let expected = String(
      format: "test_loss: %.4f - test_accuracy: %.4f", try XCTUnwrap(line["test_loss"]),
      try XCTUnwrap(line["test_accuracy"]))
    let r = try cnn(["evaluate", "--data", dir, "--checkpoint", checkpoint])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssert(r.out.contains(expected), "expected \(expected) in:\n\(r.out)")
  }

  func testOldCheckpointResumesAsAStraightRun() throws {
    let (dir, checkpoint, _) = try oldCheckpoint()
    let r = try cnn(["train", "--data", dir, "--epochs", "2", "--resume", "--checkpoint", checkpoint] + model)
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssert(r.out.contains("Resuming from"), r.out)
    let straight = dir + "/straight.safetensors"
    let s = try cnn(["train", "--data", dir, "--epochs", "2", "--checkpoint", straight] + model)
    XCTAssertEqual(s.status, 0, s.err)
    XCTAssertEqual(try readWeights(checkpoint), try readWeights(straight))
  }
}
