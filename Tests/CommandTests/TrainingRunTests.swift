import CNN
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Whole training runs through the command line.
final class TrainingRunTests: XCTestCase {
  /// Real CIFAR-10 images: the seed model learns far above chance (10%) in two short epochs,
  /// and `cnn evaluate` on the checkpoint reproduces the accuracy printed by training.
  func testTrainsOnRealCIFARSubsetAndEvaluateAgrees() throws {
    let data = try realCIFARDirectory(self)
    let dir = try temporaryDirectory(self)
    let ck = dir + "/seed.safetensors"
    let r = try cnn([
      "train", "--data", data, "--epochs", "2", "--limit", "10000", "--test-limit", "2000", "--checkpoint", ck,
      "--seed", "1",
    ])
    XCTAssertEqual(r.status, 0, r.err)
    let metrics = try String(contentsOfFile: dir + "/seed.metrics.jsonl", encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(metrics.count, 2)
    let last = try JSONSerialization.jsonObject(with: Data(metrics[1].utf8)) as! [String: Any]
    let accuracy = last["test_accuracy"] as! Double
    XCTAssertGreaterThan(accuracy, 0.35, "far above the 10% of chance")
    let e = try cnn(["evaluate", "--data", data, "--checkpoint", ck, "--limit", "2000"])
    XCTAssertEqual(e.status, 0, e.err)
    XCTAssertTrue(e.out.contains("test_accuracy: \(String(format: "%.4f", accuracy))"), e.out)
    XCTAssertTrue(e.out.contains("Confusion matrix") && e.out.contains("airplane"), e.out)
  }

  func testSameSeedSameLosses() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 100, test: 50)
    func run(_ name: String) throws -> [String] {
      let r = try cnn([
        "train", "--data", dir, "--model", "tiny", "--epochs", "2", "--seed", "5", "--checkpoint",
        "\(dir)/\(name).safetensors",
      ])
      XCTAssertEqual(r.status, 0, r.err)
      return r.out.split(separator: "\n").filter { $0.contains("loss:") }.map { line in
        // Drop the timing fields, keep loss and accuracy.
        line.components(separatedBy: " - ").filter { $0.contains("loss") || $0.contains("accuracy") }.joined(
          separator: " ")
      }
    }
    let a = try run("a")
    XCTAssertFalse(a.isEmpty)
    XCTAssertEqual(a, try run("b"))
  }

  /// SIGKILL mid-epoch, then --resume: the final weights equal an uninterrupted run's, bit for bit.
  func testResumeAfterSIGKILLMatchesUninterruptedRun() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 1200, test: 100)
    let common = ["train", "--data", dir, "--model", "tiny", "--epochs", "4", "--seed", "3", "--batch-size", "16"]
    let straight = try cnn(common + ["--checkpoint", dir + "/straight.safetensors"])
    XCTAssertEqual(straight.status, 0, straight.err)

    let ck = dir + "/killed.safetensors"
    let p = try startCNN(common + ["--checkpoint", ck], in: dir)
    // Wait for the first epoch's checkpoint, then kill during a later epoch.
    let deadline = Date().addingTimeInterval(120)
    while !FileManager.default.fileExists(atPath: ck) && Date() < deadline && p.process.isRunning { usleep(5_000) }
    usleep(150_000)
    kill(p.process.processIdentifier, SIGKILL)
    p.process.waitUntilExit()
    XCTAssertEqual(p.process.terminationReason, .uncaughtSignal)
    let (_, meta) = try SafeTensors.read(ck)
    let savedEpoch = Int(meta["epoch"]!)!
    XCTAssertLessThan(savedEpoch, 4, "killed before the end")

    let resumed = try cnn(common + ["--checkpoint", ck, "--resume"])
    XCTAssertEqual(resumed.status, 0, resumed.err)
    XCTAssertTrue(resumed.out.contains("Resuming from '\(ck)' after epoch \(savedEpoch)"), resumed.out)
    let a = try readWeights(dir + "/straight.safetensors")
    let b = try readWeights(ck)
    XCTAssertEqual(Set(a.keys), Set(b.keys))
    for (name, w) in a { XCTAssertEqual(w, b[name], name) }
  }

  /// Ctrl-C stops training cleanly; the checkpoint of the last finished epoch stays loadable.
  func testInterruptKeepsLastCheckpoint() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 1200, test: 100)
    let ck = dir + "/int.safetensors"
    let p = try startCNN(["train", "--data", dir, "--model", "tiny", "--epochs", "1000", "--checkpoint", ck], in: dir)
    let deadline = Date().addingTimeInterval(120)
    while !FileManager.default.fileExists(atPath: ck) && Date() < deadline && p.process.isRunning { usleep(5_000) }
    usleep(100_000)
    kill(p.process.processIdentifier, SIGINT)
    let err = p.errPipe.fileHandleForReading.readDataToEndOfFile()
    p.process.waitUntilExit()
    XCTAssertEqual(p.process.terminationStatus, 130)
    XCTAssertTrue(String(decoding: err, as: UTF8.self).contains("the last saved checkpoint is intact"))
    let (tensors, meta) = try SafeTensors.read(ck)
    XCTAssertGreaterThanOrEqual(Int(meta["epoch"]!)!, 1)
    XCTAssertNotNil(tensors["conv2d.kernel"])
  }
}
