import CNN
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// What a hostile user does to the command line: closed or full output streams, strange
/// paths, outputs that cannot be written, damaged logs, resumes on other data, kills mid-save.
/// Every case ends with an exit status and at most one line of error, never a trap.
final class ReliabilityTests: XCTestCase {
  /// `cnn args` under a shell, so that its streams can be redirected or closed.
  func shell(_ args: [String], redirect: String) throws -> RunResult {
    let line = ([cnnBinary] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
      .joined(separator: " ")
    return try runProcess("/bin/sh", ["-c", "\(line) \(redirect)"])
  }

  func testClosedOrFullStreamsNeverTrap() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 8, test: 8)
    let ck = dir + "/m.safetensors"
    let commands: [([String], Int32)] = [
      (["train", "--frob"], 2),
      (["train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", ck], 0),
      (["evaluate", "--data", dir, "--model", "tiny", "--checkpoint", ck], 0),
      (["evaluate", "--data", dir + "/none"], 1),
      (["summary"], 0),
      (["summary", "--help"], 0),
      ([], 2),
    ]
    let redirects = ["2>/dev/full", "2>&-", ">/dev/full", ">&-", ">/dev/full 2>/dev/full", ">&- 2>&-"]
    for (args, status) in commands {
      for redirect in redirects {
        let r = try shell(args, redirect: redirect)
        let expected: Int32 = redirect.hasPrefix(">") && status == 0 ? 1 : status
        XCTAssertEqual(r.status, expected, "cnn \(args) \(redirect): \(r.err)")
      }
    }
  }

  func testLostStandardOutputIsAnError() throws {
    let r = try shell(["summary"], redirect: ">/dev/full")
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.err.contains("standard output could not be written"), r.err)
  }

  func testNoArgumentsAndUnknownModelsAreUsageErrors() throws {
    let none = try cnn([])
    XCTAssertEqual(none.status, 2)
    XCTAssertEqual(none.out, "")
    XCTAssertEqual(
      none.err,
      "error: no command given; commands are train, evaluate, predict, export, report, summary, bench, pool (see cnn --help)\n"
    )
    for command in ["train", "evaluate", "summary"] {
      let r = try cnn([command, "--model", "nope"])
      XCTAssertEqual(r.status, 2, r.err)
      XCTAssertTrue(r.err.contains("unknown model 'nope'; choose one of: seed, tiny"), r.err)
    }
  }

  func testPathsAreQuotedAndProblemsNamed() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    let odd = try cnn(["evaluate", "--data", dir, "--checkpoint", dir + "/a\nb'c.safetensors"])
    XCTAssertEqual(odd.status, 1)
    XCTAssertEqual(odd.err.split(separator: "\n").count, 1, odd.err)
    XCTAssertTrue(odd.err.contains("/a\\nb\\'c.safetensors' does not exist"), odd.err)

    try FileManager.default.createSymbolicLink(atPath: dir + "/loop1", withDestinationPath: dir + "/loop2")
    try FileManager.default.createSymbolicLink(atPath: dir + "/loop2", withDestinationPath: dir + "/loop1")
    let dataLoop = try cnn(["evaluate", "--data", dir + "/loop1"])
    XCTAssertEqual(dataLoop.status, 1)
    XCTAssertTrue(dataLoop.err.contains("loop1' is a loop of symbolic links"), dataLoop.err)
    let checkpointLoop = try cnn(["evaluate", "--data", dir, "--checkpoint", dir + "/loop1"])
    XCTAssertTrue(
      checkpointLoop.err.contains("checkpoint '\(dir)/loop1' is a loop of symbolic links"), checkpointLoop.err)
    XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/file", contents: Data()))
    let throughFile = try cnn(["evaluate", "--data", dir + "/file/sub"])
    XCTAssertTrue(throughFile.err.contains("part of the path is a file, not a directory"), throughFile.err)
  }

  /// A checkpoint path that cannot be written stops the run before any training, and leaves
  /// no metrics log behind.
  func testUnwritableCheckpointFailsUpFront() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: false)
    XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/file", contents: Data()))
    var cases: [(String, String)] = [
      (dir + "/folder", "the checkpoint '\(dir)/folder' is a directory"),
      ("", "the checkpoint is an empty path"),
      (dir + "/file/m.safetensors", "cannot create the folder '\(dir)/file': a file of that name exists"),
      ("/proc/m.safetensors", "cannot write the checkpoint '/proc/m.safetensors'"),
    ]
    if geteuid() != 0 {
      try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: false)
      chmod(dir + "/ro", 0o555)
      cases.append((dir + "/ro/m.safetensors", "Permission denied in the folder '\(dir)/ro'"))
    }
    for (path, message) in cases {
      let r = try cnn(["train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", path])
      XCTAssertEqual(r.status, 2, path)
      XCTAssertTrue(r.err.contains(message), r.err)
      XCTAssertFalse(r.out.contains("Epoch"), "no training: \(r.out)")
    }
    let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("metrics") }
    XCTAssertEqual(left, [])
  }

  /// --resume after the log was deleted, or into a new log: the run goes on to the end and
  /// the checkpoint's epoch line is written back.
  func testResumeRestoresTheMetricsLog() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 40, test: 10)
    let ck = dir + "/m.safetensors"
    let common = ["train", "--data", dir, "--model", "tiny", "--checkpoint", ck]
    XCTAssertEqual(try cnn(common + ["--epochs", "2"]).status, 0)
    let log = dir + "/m.metrics.jsonl"
    let original = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    try FileManager.default.removeItem(atPath: log)
    let r = try cnn(common + ["--epochs", "4", "--resume"])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssertTrue(r.out.contains("wrote back epoch 2's line from the checkpoint"), r.out)
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.count, 3)
    XCTAssertEqual(lines[0], original[1], "epoch 2's line, as first written")
    let other = try cnn(common + ["--epochs", "5", "--resume", "--metrics", dir + "/new/log.jsonl"])
    XCTAssertEqual(other.status, 0, other.err)
    XCTAssertEqual(try String(contentsOfFile: dir + "/new/log.jsonl", encoding: .utf8).split(separator: "\n").count, 2)
  }

  /// A log whose last line was cut short (a write stopped by a full disk) is repaired on resume.
  func testResumeDropsACutLine() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 20, test: 10)
    let ck = dir + "/m.safetensors"
    let common = ["train", "--data", dir, "--model", "tiny", "--checkpoint", ck]
    XCTAssertEqual(try cnn(common + ["--epochs", "2"]).status, 0)
    let log = dir + "/m.metrics.jsonl"
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    try (lines[0] + "\n" + lines[1].prefix(20)).write(toFile: log, atomically: true, encoding: .utf8)
    let r = try cnn(common + ["--epochs", "3", "--resume"])
    XCTAssertEqual(r.status, 0, r.err)
    let repaired = try String(contentsOfFile: log, encoding: .utf8)
    XCTAssertTrue(repaired.hasSuffix("\n"))
    let epochs = try repaired.split(separator: "\n").map {
      try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["epoch"] as? Int
    }
    XCTAssertEqual(epochs, [1, 2, 3])
  }

  /// A pipe or device is not a checkpoint; a symbolic link is written through, not replaced.
  func testCheckpointPathsThatAreNotFiles() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    XCTAssertEqual(mkfifo(dir + "/pipe", 0o644), 0)
    let pipe = try cnn(["train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", dir + "/pipe"])
    XCTAssertEqual(pipe.status, 2)
    XCTAssertTrue(pipe.err.contains("is not a regular file (a device or a pipe)"), pipe.err)
    try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(
      atPath: dir + "/link.safetensors", withDestinationPath: "real/m.safetensors")
    let r = try cnn([
      "train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", dir + "/link.safetensors",
    ])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssertEqual(
      try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link.safetensors"), "real/m.safetensors")
    XCTAssertNoThrow(try SafeTensors.read(dir + "/real/m.safetensors"))
    // In a checkpoint from before model configs, an unknown pooling record is a bad
    // checkpoint, not max pooling.
    var (tensors, meta) = try SafeTensors.read(dir + "/real/m.safetensors")
    meta["pooling"] = "average(k=3)"
    meta[Sequential.modelConfigKey] = nil
    try SafeTensors.write(tensors, metadata: meta, to: dir + "/odd.safetensors")
    tensors = [:]
    let odd = try cnn(["evaluate", "--data", dir, "--checkpoint", dir + "/odd.safetensors"])
    XCTAssertEqual(odd.status, 1)
    XCTAssertTrue(odd.err.contains("records the pooling 'average(k=3)', which this version does not know"), odd.err)
  }

  /// A named pipe with no writer, a socket or a device given as any input file (data,
  /// checkpoint, image, metrics log, matrix) is refused at once by name, never read from.
  func testSpecialFilesAreRefusedAtOnce() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    let ck = dir + "/m.safetensors"
    XCTAssertEqual(try cnn(["train", "--data", dir, "--model", "tiny", "--epochs", "1", "--checkpoint", ck]).status, 0)
    XCTAssertEqual(mkfifo(dir + "/fifo", 0o644), 0)
    let socket = try unixSocket(dir + "/socket")
    defer { close(socket) }
    let kinds = [
      (dir + "/fifo", "is a named pipe (FIFO), not a regular file"),
      (dir + "/socket", "is a socket, not a regular file"),
      ("/dev/zero", "is a character device, not a regular file"),
    ]
    for (path, kind) in kinds {
      // The data's test batch: a folder whose test_batch.bin is the special file.
      let data = dir + "/data-\((path as NSString).lastPathComponent)"
      try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
      try writeSyntheticCIFAR(data, train: 4, test: 4)
      try FileManager.default.removeItem(atPath: data + "/test_batch.bin")
      try FileManager.default.createSymbolicLink(atPath: data + "/test_batch.bin", withDestinationPath: path)
      let cases: [[String]] = [
        ["evaluate", "--data", data, "--checkpoint", ck],
        ["evaluate", "--data", dir, "--checkpoint", path],
        ["predict", "--checkpoint", ck, path],
        ["report", "--data", dir, "--checkpoint", ck, "--metrics", path, "--output", dir + "/r.html"],
        ["pool", "--file", path],
      ]
      for args in cases {
        let start = Date()
        let r = try cnn(args)
        let seconds = Date().timeIntervalSince(start)
        if args[0] == "report" {
          // A report notes what it cannot read and is written all the same.
          XCTAssertEqual(r.status, 0, r.err)
          XCTAssertTrue(try String(contentsOfFile: dir + "/r.html", encoding: .utf8).contains(kind))
        } else {
          XCTAssertEqual(r.status, 1, "\(args): \(r.err)")
          XCTAssertTrue(r.err.contains(kind), "\(args): \(r.err)")
        }
        XCTAssertLessThan(seconds, 5, "\(args) answered at once")
      }
    }
  }

  /// A listening Unix-domain socket at `path`; its descriptor.
  private func unixSocket(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard fd >= 0, bound == 0, listen(fd, 1) == 0 else { throw XCTSkip("no Unix-domain socket at \(path)") }
    return fd
  }

  func testResumeRefusesOtherData() throws {
    let a = try temporaryDirectory(self)
    let b = try temporaryDirectory(self)
    try writeSyntheticCIFAR(a, train: 20, test: 10, seed: 1)
    try writeSyntheticCIFAR(b, train: 20, test: 10, seed: 2)
    let ck = a + "/m.safetensors"
    XCTAssertEqual(try cnn(["train", "--data", a, "--model", "tiny", "--epochs", "1", "--checkpoint", ck]).status, 0)
    let r = try cnn(["train", "--data", b, "--model", "tiny", "--epochs", "2", "--checkpoint", ck, "--resume"])
    XCTAssertEqual(r.status, 2)
    XCTAssertTrue(r.err.contains("the checkpoint was trained on other images"), r.err)
    let same = try cnn(["train", "--data", a, "--model", "tiny", "--epochs", "2", "--checkpoint", ck, "--resume"])
    XCTAssertEqual(same.status, 0, same.err)
  }

  /// The terminal goes away mid-epoch (its writes fail with EIO): training goes on to the
  /// end, saves every epoch, and exits 1 for the lost output instead of trapping.
  func testTrainingSurvivesALostTerminal() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 200, test: 50)
    // A pseudo-terminal pair: /dev/ptmx, unlocked (TIOCSPTLCK), its number (TIOCGPTN).
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    guard master >= 0 else { throw XCTSkip("no pseudo-terminals here") }
    var unlock: Int32 = 0
    var number: Int32 = 0
    XCTAssertEqual(ioctl(master, 0x4004_5431, &unlock), 0)
    XCTAssertEqual(ioctl(master, 0x8004_5430, &number), 0)
    let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
    XCTAssertGreaterThanOrEqual(slave, 0)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: cnnBinary)
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    let ck = dir + "/m.safetensors"
    p.arguments = [
      "train", "--data", dir, "--model", "tiny", "--epochs", "30", "--batch-size", "8", "--checkpoint", ck,
    ]
    let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
    p.standardOutput = terminal
    p.standardError = terminal
    try p.run()
    try terminal.close()
    // Read what the terminal shows until the second epoch begins, then close it.
    var shown: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    let deadline = Date().addingTimeInterval(60)
    while !String(decoding: shown, as: UTF8.self).contains("Epoch 2/") && Date() < deadline {
      let n = read(master, &buffer, buffer.count)
      if n <= 0 { break }
      shown += buffer[0..<n]
    }
    close(master)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationReason, .exit, "no trap")
    XCTAssertEqual(p.terminationStatus, 1)
    XCTAssertEqual(try SafeTensors.read(ck).metadata["epoch"], "30")
  }

  /// SIGKILL the moment a save's temporary file appears, until 20 kills have landed inside a
  /// save (at most 300 tries): the checkpoint always loads, and the next run removes what the
  /// killed writers left.
  func testKillsDuringSaveLeaveNothingBehind() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 8, test: 4)
    let ck = dir + "/m.safetensors"
    let common = ["train", "--data", dir, "--epochs", "10000", "--checkpoint", ck]
    var killedMidSave = 0
    var tries = 0
    while killedMidSave < 20 && tries < 300 {
      tries += 1
      let p = try startCNN(common + (FileManager.default.fileExists(atPath: ck) ? ["--resume"] : []), in: dir)
      let tmp = "\(ck).tmp-\(p.process.processIdentifier)"
      let deadline = Date().addingTimeInterval(60)
      while p.process.isRunning && Date() < deadline && access(tmp, F_OK) != 0 { usleep(100) }
      kill(p.process.processIdentifier, SIGKILL)
      p.process.waitUntilExit()
      if access(tmp, F_OK) == 0 { killedMidSave += 1 }
      if FileManager.default.fileExists(atPath: ck) {
        XCTAssertNoThrow(try SafeTensors.read(ck), "kill \(tries)")
      }
    }
    print("kills inside a save: \(killedMidSave) of \(tries)")
    XCTAssertGreaterThan(killedMidSave, 0, "some kills landed inside a save")
    XCTAssertEqual(try cnn(common.dropLast(4) + ["--epochs", "1", "--checkpoint", ck]).status, 0)
    let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
    XCTAssertEqual(left, [])
  }

  /// 200 random command lines over the commands (bench aside: it runs for seconds), option and hostile value (paths with
  /// newlines and quotes, symbolic-link loops, folders, files used as folders, empty strings,
  /// numbers out of range), some with standard output or error closed or full: each ends with
  /// status 0, 1 or 2 and, on failure, one line of error.
  func testFuzzCommandLines() throws {
    let dir = try temporaryDirectory(self)
    try writeSyntheticCIFAR(dir, train: 4, test: 4)
    try FileManager.default.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: dir + "/loop")
    XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/file", contents: Data([1, 2, 3])))
    let paths = [
      dir, dir + "/loop", dir + "/file", dir + "/file/x", "", dir + "/new\nline'q", dir + "/none", "/proc/x",
      dir + "/c.safetensors",
    ]
    let numbers = ["0", "1", "2", "-1", "x", "1e9", "99999999999999999999", "3.5", ""]
    let options: [(String, [String])] = [
      ("--data", [dir] + paths), ("--checkpoint", paths), ("--metrics", paths),
      ("--model", ["seed", "tiny", "nope", ""]),
      ("--epochs", numbers), ("--batch-size", numbers), ("--limit", numbers), ("--test-limit", numbers),
      ("--threads", numbers), ("--seed", numbers), ("--learning-rate", numbers + ["nan", "inf"]),
      ("--steps", numbers), ("--resume", []), ("--help", []), ("--frob", []),
      ("--pooling", PoolingChoice.names + ["median", ""]), ("--pooling-k", numbers), ("--pooling-p", numbers),
      ("--matrix", ["1 2; 3 4", "1 x", ";", "1 2; 3", ""]), ("--example", ["table", "line", "nope"]),
      ("--file", paths), ("--k", numbers), ("--p", numbers), ("--lambda", numbers), ("--global", []),
      ("--pool-size", numbers), ("--detect-vertical-lines", []),
    ]
    let redirects = ["", "", "", ">/dev/full", "2>/dev/full", ">&-", "2>&-"]
    var rng = SeededRandom(seed: 2026)
    var statuses: [Int32: Int] = [:]
    for _ in 0..<200 {
      var args = [["train", "evaluate", "summary", "pool", "fly"][rng.nextInt(below: 5)]]
      for _ in 0..<rng.nextInt(below: 5) {
        let (name, values) = options[rng.nextInt(below: options.count)]
        args.append(name)
        if !values.isEmpty { args.append(values[rng.nextInt(below: values.count)]) }
      }
      if args[0] == "train" { args += ["--model", "tiny", "--epochs", "1"] }
      if args[0] == "pool" && rng.nextInt(below: 2) == 0 { args += ["--example", "table"] }
      let redirect = redirects[rng.nextInt(below: redirects.count)]
      let r = try shell(args, redirect: redirect)
      statuses[r.status, default: 0] += 1
      XCTAssertTrue([0, 1, 2].contains(r.status), "cnn \(args) \(redirect): status \(r.status) \(r.err)")
      XCTAssertFalse(r.err.contains("Fatal error"), "cnn \(args): \(r.err)")
      if r.status != 0 && !redirect.hasPrefix("2") {
        XCTAssertEqual(r.err.split(separator: "\n").filter { $0.hasPrefix("error:") }.count, 1, "\(args): \(r.err)")
      }
    }
    print("command-line fuzz: 200 cases, exit statuses \(statuses.sorted { $0.key < $1.key })")
  }
}
