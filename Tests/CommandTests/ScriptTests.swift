import CNN
import Foundation
import XCTest

/// The shell scripts users run first: --help, usage errors, and how get-cifar10.sh treats
/// archives (it never writes a half-extracted dataset).
final class ScriptTests: XCTestCase {
  /// Runs `Scripts/<name> args...` to completion, with `environment` added.
  func script(_ name: String, _ args: [String], environment: [String: String] = [:]) throws -> RunResult {
    try runProcess(packageRoot + "/Scripts/" + name, args, environment: environment)
  }

  func testHelpOnEveryScript() throws {
    for name in [
      "get-cifar10.sh", "train-cifar10.sh", "check-fma.sh", "pooling-experiment.sh", "check-files-left-alone.sh",
    ] {
      for flag in ["--help", "-h"] {
        let r = try script(name, [flag])
        XCTAssertEqual(r.status, 0, "\(name) \(flag): \(r.err)")
        // Usage only: nothing fetched, built or checked.
        XCTAssertTrue(r.out.hasPrefix("usage: Scripts/\(name)"), "\(name) \(flag): \(r.out)")
        XCTAssertTrue(r.out.contains("Exit status"), r.out)
        XCTAssertEqual(r.err, "", "\(name) \(flag)")
      }
    }
  }

  func testScriptUsageErrors() throws {
    let cases: [(String, [String], String)] = [
      ("get-cifar10.sh", ["--bogus"], "unknown argument '--bogus'"),
      ("get-cifar10.sh", ["--archive"], "--archive needs a value"),
      ("get-cifar10.sh", ["--dest", ""], "--dest needs a value"),
      ("train-cifar10.sh", ["--archive"], "--archive needs a value"),
      ("check-fma.sh", ["now"], "unknown argument 'now'"),
      ("check-files-left-alone.sh", ["now"], "unknown argument 'now'"),
      ("pooling-experiment.sh", ["--poolings", "max,median"], "unknown pooling 'median'"),
      ("pooling-experiment.sh", ["--epochs", "0"], "--epochs must be a whole number above 0, got '0'"),
      ("pooling-experiment.sh", ["--seeds"], "--seeds needs a value"),
    ]
    for (name, args, text) in cases {
      let r = try script(name, args)
      XCTAssertEqual(r.status, 2, "\(name) \(args): \(r.err)")
      XCTAssertTrue(r.err.contains(text), "\(name) \(args): \(r.err)")
      XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)")
    }
  }

  func testGetCIFAR10RefusesBadArchives() throws {
    let dir = try temporaryDirectory(self)
    let dest = dir + "/data"
    let missing = try script("get-cifar10.sh", ["--archive", dir + "/none.tar.gz", "--dest", dest])
    XCTAssertEqual(missing.status, 1)
    XCTAssertTrue(missing.err.contains("does not exist"), missing.err)
    // The environment variable names the archive too.
    let viaEnv = try script("get-cifar10.sh", ["--dest", dest], environment: ["CIFAR10_ARCHIVE": dir + "/none.tar.gz"])
    XCTAssertEqual(viaEnv.status, 1)
    XCTAssertTrue(viaEnv.err.contains("\(dir)/none.tar.gz does not exist"), viaEnv.err)

    let junk = dir + "/junk.tar.gz"
    try Data("not an archive".utf8).write(to: URL(fileURLWithPath: junk))
    let unknown = try script("get-cifar10.sh", ["--archive", junk, "--dest", dest])
    XCTAssertEqual(unknown.status, 1)
    XCTAssertTrue(unknown.err.contains("matches no known checksum"), unknown.err)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dest + "/cifar-10-batches-bin"))

    // An archive accepted by CIFAR10_SHA256 but missing the batch files: refused after
    // extraction, and nothing is left behind.
    let tree = dir + "/tree/cifar-10-batches-bin"
    try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
    try "airplane\n".write(toFile: tree + "/batches.meta.txt", atomically: true, encoding: .utf8)
    let partial = dir + "/partial.tar.gz"
    XCTAssertEqual(
      try runProcess("/usr/bin/env", ["tar", "-czf", partial, "-C", dir + "/tree", "cifar-10-batches-bin"]).status, 0)
    let sha = try runProcess("/usr/bin/env", ["sha256sum", partial]).out.split(separator: " ")[0]
    let incomplete = try script(
      "get-cifar10.sh", ["--archive", partial, "--dest", dest], environment: ["CIFAR10_SHA256": String(sha)])
    XCTAssertEqual(incomplete.status, 1, incomplete.out)
    XCTAssertTrue(incomplete.out.contains("Checksum OK: matches CIFAR10_SHA256"), incomplete.out)
    XCTAssertTrue(incomplete.err.contains("incomplete after extraction"), incomplete.err)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest), [])
  }

  func testGetCIFAR10ExtractsTheLocalArchive() throws {
    let archive = (packageRoot as NSString).deletingLastPathComponent + "/shared/datasets/cifar-10-binary.tar.gz"
    guard FileManager.default.fileExists(atPath: archive) else { throw XCTSkip("no local archive at \(archive)") }
    let dest = try temporaryDirectory(self)
    let first = try script("get-cifar10.sh", ["--archive", archive, "--dest", dest])
    XCTAssertEqual(first.status, 0, first.err)
    XCTAssertTrue(first.out.contains("Checksum OK"), first.out)
    let data = dest + "/cifar-10-batches-bin"
    let train = try CIFAR10.load(directory: data, split: .train, limit: 10)
    XCTAssertEqual(train.count, 10)
    let test = try CIFAR10.load(directory: data, split: .test)
    XCTAssertEqual(test.count, 10_000)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest), ["cifar-10-batches-bin"])
    // A second run finds the data complete and does nothing.
    let second = try script("get-cifar10.sh", ["--dest", dest])
    XCTAssertEqual(second.status, 0, second.err)
    XCTAssertEqual(second.out, "CIFAR-10 is ready in \(data)\n")
  }
}
