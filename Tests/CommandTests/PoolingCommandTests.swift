import CNN
import Foundation
import XCTest

/// `cnn pool` reproduces the tutorials' worked examples; `--pooling` swaps the zoo model's pools.
final class PoolingCommandTests: XCTestCase {
  func testSeedTablesAndGlobalValues() throws {
    let max = try cnn(["pool", "--example", "table"])
    XCTAssertEqual(max.status, 0, max.err)
    XCTAssertTrue(max.out.hasSuffix("MaxPooling2D (pool 2x2, strides 2x2, valid) -> (2x2):\n  6  9\n  5  8\n"), max.out)
    XCTAssertTrue(max.out.hasPrefix("Input (4x4):\n  1  3  2  9\n  5  6  1  7\n  4  2  8  6\n  3  5  7  2\n"), max.out)
    let avg = try cnn(["pool", "--example", "table", "--pooling", "average"])
    XCTAssertTrue(avg.out.hasSuffix("-> (2x2):\n  3.75  4.75\n   3.5  5.75\n"), avg.out)
    let globalMax = try cnn(["pool", "--example", "table", "--global"])
    XCTAssertTrue(globalMax.out.hasSuffix("GlobalMaxPooling2D -> (1x1):\n  9\n"), globalMax.out)
    let globalAvg = try cnn(["pool", "--example", "table", "--global", "--pooling", "average"])
    XCTAssertTrue(globalAvg.out.hasSuffix("GlobalAveragePooling2D -> (1x1):\n  4.4375\n"), globalAvg.out)
  }

  func testVerticalLineExample() throws {
    let r = try cnn(["pool", "--example", "line", "--detect-vertical-lines", "--pooling", "average"])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssertTrue(r.out.contains("(6x6):\n" + String(repeating: "  0  0  3  3  0  0\n", count: 6)), r.out)
    XCTAssertTrue(r.out.hasSuffix("-> (3x3):\n" + String(repeating: "  0  3  0\n", count: 3)), r.out)
  }

  func testOtherPoolingsAndInputs() throws {
    let dir = try temporaryDirectory(self)
    try "1, -2, 3\n4 5 -6\n7 8 9\n".write(toFile: dir + "/m.txt", atomically: true, encoding: .utf8)
    let top = try cnn(["pool", "--file", dir + "/m.txt", "--pooling", "avgtopk", "--k", "3", "--padding", "same"])
    XCTAssertEqual(top.status, 0, top.err)
    XCTAssertTrue(top.out.hasSuffix("-> (2x2):\n  3.3333333       -1.5\n        7.5          9\n"), top.out)
    let lp = try cnn(["pool", "--matrix", "3 4 0 0; 1 2 2 0", "--pooling", "lp", "--p", "2"])
    XCTAssertTrue(
      lp.out.hasSuffix("LpPooling2D (pool 2x2, strides 2x2, valid, p 2) -> (1x2):\n  5.477226         2\n"), lp.out)
    let min = try cnn(["pool", "--example", "table", "--pooling", "min", "--global"])
    XCTAssertTrue(min.out.hasSuffix("GlobalMinPooling2D -> (1x1):\n  1\n"), min.out)
    let mixed = try cnn(["pool", "--example", "table", "--pooling", "mixed", "--lambda", "0.5"])
    XCTAssertTrue(mixed.out.hasSuffix("-> (2x2):\n  4.875  6.875\n   4.25  6.875\n"), mixed.out)
  }

  func testPoolUsageErrors() throws {
    let cases: [([String], String)] = [
      (["pool"], "give the matrix with one of --matrix, --file or --example"),
      (["pool", "--matrix", "1 2; 3"], "--matrix: row 2 has 1 values, row 1 has 2"),
      (["pool", "--matrix", "1 x"], "'x' at row 1, column 2 is not a number"),
      (["pool", "--matrix", ";;"], "--matrix holds no numbers"),
      (["pool", "--example", "table", "--pooling", "avgtopk", "--k", "5"], "k 5 is larger than the 2x2 window"),
      (["pool", "--example", "table", "--pooling", "lp", "--p", "0"], "--p must be above 0.0"),
      (
        ["pool", "--example", "table", "--pooling", "mixed", "--lambda", "2"],
        "--lambda must lie in [0, 1], got 2.0"
      ),
      (["pool", "--example", "table", "--k", "2"], "--k goes with --pooling avgtopk"),
      (["pool", "--example", "table", "--pool-size", "5"], "pool 5x5 is larger than its input 4x4"),
      (["pool", "--example", "table", "--global", "--strides", "1"], "--strides does not apply to --global pooling"),
      (["pool", "--example", "nope"], "unknown example 'nope'"),
      (["pool", "--example", "table", "--pooling", "median"], "unknown pooling 'median'"),
      (["train", "--pooling", "median"], "unknown pooling 'median'"),
      (["train", "--pooling-k", "2"], "--pooling-k goes with --pooling avgtopk"),
      (["train", "--pooling", "avgtopk", "--pooling-k", "5"], "--pooling-k must be between 1 and 4"),
      (["summary", "--pooling", "lp", "--pooling-p", "-1"], "--pooling-p must be above 0.0"),
    ]
    for (args, message) in cases {
      let r = try cnn(args)
      XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
      XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
      XCTAssertEqual(r.out, "", "\(args): nothing printed before the error")
    }
  }

  func testTrainWithEachPoolingAndEvaluateReadsItBack() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 20, test: 10)
    for (pooling, extra, layer) in [
      ("min", [String](), "MinPooling2D"), ("mixed", [], "MixedPooling2D"),
      ("lp", ["--pooling-p", "3"], "LpPooling2D"),
      ("avgtopk", ["--pooling-k", "3"], "AvgTopKPooling2D"), ("average", [], "AveragePooling2D"),
    ] {
      let summary = try cnn(["summary", "--pooling", pooling] + extra)
      XCTAssertEqual(summary.out.components(separatedBy: "(\(layer))").count, 3, summary.out)
      let ck = "\(dir)/\(pooling).safetensors"
      let args = ["train", "--data", dir, "--epochs", "1", "--checkpoint", ck, "--pooling", pooling] + extra
      let r = try cnn(args)
      XCTAssertEqual(r.status, 0, r.err)
      XCTAssertTrue(r.out.contains("Training seed with \(pooling)"), r.out)
      let e = try cnn(["evaluate", "--data", dir, "--checkpoint", ck])
      XCTAssertEqual(e.status, 0, "evaluate rebuilds the \(pooling) model from the checkpoint: \(e.err)")
      let other = try cnn(["train", "--data", dir, "--epochs", "2", "--checkpoint", ck, "--resume"])
      XCTAssertEqual(other.status, 2)
      XCTAssertTrue(other.err.contains("the checkpoint's model differs from this run's at layer 1"), other.err)
    }
    let mixed = try SafeTensors.read("\(dir)/mixed.safetensors")
    XCTAssertEqual(mixed.tensors["mixed_pooling2d.mixing"]?.shape, [1], "the learned lambda is checkpointed")
    XCTAssertNotNil(mixed.tensors["optimizer.m.mixed_pooling2d_1.mixing"])
  }

  /// A checkpoint from before model configs records its pooling as a string (max when it
  /// says nothing): --resume with another pooling is refused.
  func testResumeWithoutAModelConfigChecksThePooling() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 8, test: 8)
    let ck = dir + "/m.safetensors"
    let train = ["train", "--data", dir, "--model", "tiny", "--checkpoint", ck]
    XCTAssertEqual(try cnn(train + ["--epochs", "1", "--pooling", "average"]).status, 0)
    var (tensors, meta) = try SafeTensors.read(ck)
    meta[Sequential.modelConfigKey] = nil
    meta["pooling"] = "average"
    try SafeTensors.write(tensors, metadata: meta, to: ck)
    tensors = [:]
    let other = try cnn(train + ["--epochs", "2", "--resume"])
    XCTAssertEqual(other.status, 2)
    XCTAssertTrue(other.err.contains("trained with pooling average, this run has max"), other.err)
    let same = try cnn(train + ["--epochs", "2", "--resume", "--pooling", "average"])
    XCTAssertEqual(same.status, 0, same.err)
  }
}
