import CNN
import Foundation
import XCTest

/// Bad command lines: one clear line, exit status 2, never a crash.
final class CommandLineTests: XCTestCase {
  func testHelpOnEveryCommand() throws {
    let top = try cnn(["--help"])
    XCTAssertEqual(top.status, 0)
    XCTAssertTrue(top.out.contains("commands:"))
    for c in ["train", "evaluate", "predict", "export", "report", "summary", "bench", "pool"] {
      let r = try cnn([c, "--help"])
      XCTAssertEqual(r.status, 0, c)
      XCTAssertTrue(r.out.contains("usage: cnn \(c)"), r.out)
    }
  }

  /// Each command's help lists exactly what its parser accepts: every option in the help is
  /// taken (the parser goes on to the unknown one after it), and one that is not is refused.
  func testEveryOptionInTheHelpIsAccepted() throws {
    for c in ["train", "evaluate", "predict", "export", "report", "summary", "bench", "pool"] {
      let help = try cnn([c, "--help"]).out
      let options = help.split(separator: "\n").filter { $0.hasPrefix("  --") }.map {
        $0.dropFirst(2).split(separator: " ", maxSplits: 1).map(String.init)
      }
      XCTAssertFalse(options.isEmpty, c)
      // --help is answered before any parsing.
      for option in options where option[0] != "--help" {
        let name = option[0]
        // A valued option's placeholder follows on its line; a flag's help does, or nothing.
        let valued = option.count > 1 && option[1].first.map { $0.isUppercase || $0 == "\"" } == true
        let r = try cnn([c, name] + (valued ? ["1"] : []) + ["--zz-not-an-option"])
        XCTAssertEqual(r.status, 2, "\(c) \(name): \(r.err)")
        XCTAssertTrue(r.err.contains("unknown option '--zz-not-an-option'"), "\(c) \(name): \(r.err)")
      }
    }
  }

  func testSummaryPrintsTheSeedModel() throws {
    let r = try cnn(["summary"])
    XCTAssertEqual(r.status, 0)
    XCTAssertTrue(r.out.contains("Total params: 167,562"), r.out)
  }

  func testBenchPrintsEveryFigure() throws {
    let r = try cnn(["bench", "--steps", "2", "--threads", "1"])
    XCTAssertEqual(r.status, 0, r.err)
    for line in [
      "probe peak", "256³", "1024³", "conv2 dW", "batch  32: training", "batch 128: training", "inference",
      "peak resident memory",
    ] {
      XCTAssertTrue(r.out.contains(line), "bench output lacks \(line):\n\(r.out)")
    }
  }

  func testBenchOfAZooModel() throws {
    let r = try cnn(["bench", "--model", "tiny", "--batch-size", "16", "--steps", "2", "--threads", "1"])
    XCTAssertEqual(r.status, 0, r.err)
    for line in ["probe peak", "tiny (", "training", "thread time in GEMMs", "peak resident memory"] {
      XCTAssertTrue(r.out.contains(line), "bench output lacks \(line):\n\(r.out)")
    }
    XCTAssertEqual(try cnn(["bench", "--batch-size", "16"]).status, 2)
    let fast = try cnn(["train", "--model", "fast93", "--pooling", "min"])
    XCTAssertEqual(fast.status, 2)
    XCTAssertTrue(fast.err.contains("--pooling applies to the seed and tiny models, not to fast93"), fast.err)
  }

  func testUsageErrors() throws {
    let cases: [([String], String)] = [
      (["fly"], "unknown command 'fly'"),
      (["train", "--epoch", "3"], "unknown option '--epoch'"),
      (["train", "--epochs"], "--epochs needs a value"),
      (["train", "--epochs", "--seed", "1"], "--epochs needs a value"),
      (["train", "--epochs", "ten"], "--epochs expects a number, got 'ten'"),
      (["train", "--epochs", "0"], "--epochs must be above 0 and at most 10000, got 0"),
      (["train", "--batch-size", "0"], "--batch-size must be between 1 and 65536, got 0"),
      (["train", "--learning-rate", "-0.1"], "--learning-rate must be above 0.0"),
      (["train", "--learning-rate", "abc"], "--learning-rate expects a number, got 'abc'"),
      (["train", "--threads", "999"], "--threads must be between 1 and \(Threads.available), got 999"),
      (["train", "--seed", "-1"], "--seed expects a whole number"),
      (["train", "--resume=yes"], "--resume takes no value"),
      (["train", "stray"], "unexpected argument 'stray'"),
      (["train", "--epochs", "2", "--epochs", "3"], "--epochs is given twice"),
      (["evaluate", "--batch-size", "x"], "--batch-size expects a whole number"),
      // Numbers as a person writes them: no hexadecimal, exponents, infinities or fractions of counts.
      (["train", "--epochs", "0x10"], "--epochs expects a number, got '0x10'"),
      (["train", "--epochs", "1e3"], "--epochs expects a number, got '1e3'"),
      (["train", "--learning-rate", "inf"], "--learning-rate expects a number, got 'inf'"),
      (["train", "--learning-rate", "1e-3"], "--learning-rate expects a number, got '1e-3'"),
      (["train", "--batch-size", "0x20"], "--batch-size expects a whole number, got '0x20'"),
      (["train", "--batch-size", "32.0"], "--batch-size expects a whole number, got '32.0'"),
      (["train", "--seed", "0x1"], "--seed expects a whole number"),
      (["pool", "--matrix", "1 2; 3 0x4"], "'0x4' at row 2, column 2 is not a number"),
      (["summary", "--layers"], "unknown option '--layers'"),
    ]
    for (args, text) in cases {
      let r = try cnn(args)
      XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
      XCTAssertTrue(r.err.contains(text), "\(args): \(r.err)")
      XCTAssertFalse(r.err.contains("Fatal error"), "\(args) crashed")
      XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)")
    }
  }

  func testBadDataFails() throws {
    let missing = try cnn(["train", "--data", "/nonexistent/cifar"])
    XCTAssertEqual(missing.status, 1)
    XCTAssertTrue(missing.err.contains("does not exist; run Scripts/get-cifar10.sh"), missing.err)

    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    try FileManager.default.removeItem(atPath: dir + "/data_batch_3.bin")
    let gone = try cnn(["train", "--data", dir])
    XCTAssertEqual(gone.status, 1)
    XCTAssertTrue(gone.err.contains("missing CIFAR-10 file") && gone.err.contains("data_batch_3.bin"), gone.err)

    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/data_batch_2.bin"))
    try bytes.prefix(3073 * 2 + 100).write(to: URL(fileURLWithPath: dir + "/data_batch_2.bin"))
    let truncated = try cnn(["train", "--data", dir])
    XCTAssertEqual(truncated.status, 1)
    XCTAssertTrue(
      truncated.err.contains("data_batch_2.bin' has 6246 bytes, not a multiple of the 3073-byte record"), truncated.err)

    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    var test = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/test_batch.bin")))
    test[3073] = 12
    try Data(test).write(to: URL(fileURLWithPath: dir + "/test_batch.bin"))
    let label = try cnn(["train", "--data", dir])
    XCTAssertEqual(label.status, 1)
    XCTAssertTrue(label.err.contains("test_batch.bin': record 1 has label 12, but labels run 0...9"), label.err)
  }

  func testBadCheckpointsFail() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    let none = try cnn(["evaluate", "--data", dir, "--checkpoint", dir + "/none.safetensors"])
    XCTAssertEqual(none.status, 1)
    XCTAssertTrue(none.err.contains("does not exist"), none.err)
    XCTAssertTrue(
      FileManager.default.createFile(atPath: dir + "/bad.safetensors", contents: Data([1, 2, 3, 4, 5, 6, 7, 8, 9])))
    let bad = try cnn(["evaluate", "--data", dir, "--checkpoint", dir + "/bad.safetensors"])
    XCTAssertEqual(bad.status, 1)
    XCTAssertTrue(bad.err.contains("header length"), bad.err)
    // A tiny-model checkpoint evaluates as the model it records; given to the seed model by
    // --model, the mismatch is named.
    let trained = try cnn([
      "train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", dir + "/tiny.safetensors",
    ])
    XCTAssertEqual(trained.status, 0, trained.err)
    XCTAssertEqual(try cnn(["evaluate", "--data", dir, "--checkpoint", dir + "/tiny.safetensors"]).status, 0)
    let wrong = try cnn(["evaluate", "--data", dir, "--checkpoint", dir + "/tiny.safetensors", "--model", "seed"])
    XCTAssertEqual(wrong.status, 1)
    XCTAssertTrue(
      wrong.err.contains("conv2d.kernel has shape [3, 3, 3, 8], the model expects [3, 3, 3, 32]"), wrong.err)
    // A metrics log that cannot be created (here a directory) stops the run before training.
    let metrics = try cnn([
      "train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", dir + "/m.safetensors",
      "--metrics", dir,
    ])
    XCTAssertEqual(metrics.status, 2, metrics.err)
    XCTAssertTrue(metrics.err.contains("the metrics log '\(dir)' is a directory"), metrics.err)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m.safetensors"))
    let resumeMissing = try cnn(["train", "--data", dir, "--resume", "--checkpoint", dir + "/none.safetensors"])
    XCTAssertEqual(resumeMissing.status, 2)
    XCTAssertTrue(resumeMissing.err.contains("no checkpoint"), resumeMissing.err)
  }
}
