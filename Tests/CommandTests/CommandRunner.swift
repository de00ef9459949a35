import CNN
import Foundation
import XCTest

/// The `cnn` executable built beside the tests.
var cnnBinary: String {
  var dir = URL(fileURLWithPath: CommandLine.arguments[0])
  while dir.path != "/" {
    dir = dir.deletingLastPathComponent()
    let candidate = dir.appendingPathComponent("cnn").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  return Bundle.main.bundleURL.appendingPathComponent("cnn").path
}

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

struct RunResult {
  let status: Int32
  let out: String
  let err: String
}

/// Runs `cnn args...` to completion.
@discardableResult
func cnn(_ args: [String], environment: [String: String] = [:]) throws -> RunResult {
  try runProcess(cnnBinary, args, environment: environment)
}

/// Runs `executable args...` to completion in a new, empty working folder that is removed
/// afterwards, so that a default path (`runs/model.safetensors`, `Datasets/...`) never reaches
/// the package's own folders, whatever a user keeps there.
func runProcess(_ executable: String, _ args: [String], environment: [String: String] = [:]) throws -> RunResult {
  let folder = NSTemporaryDirectory() + "cnn-cwd-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: folder) }
  let p = try startProcess(executable, args, in: folder, environment: environment)
  let out = p.outPipe.fileHandleForReading.readDataToEndOfFile()
  let err = p.errPipe.fileHandleForReading.readDataToEndOfFile()
  p.process.waitUntilExit()
  return RunResult(
    status: p.process.terminationStatus, out: String(decoding: out, as: UTF8.self),
    err: String(decoding: err, as: UTF8.self))
}

struct Started {
  let process: Process
  let outPipe: Pipe
  let errPipe: Pipe
}

/// Starts `cnn args...` in `folder`, a temporary folder of the test's.
func startCNN(_ args: [String], in folder: String, environment: [String: String] = [:]) throws -> Started {
  try startProcess(cnnBinary, args, in: folder, environment: environment)
}

/// Starts `executable args...` in the working folder `folder`, with this process's environment
/// less the variables that name CIFAR-10 data (so a developer's settings never leak into a
/// test), plus `environment`.
func startProcess(_ executable: String, _ args: [String], in folder: String, environment: [String: String] = [:])
  throws -> Started
{
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = args
  p.currentDirectoryURL = URL(fileURLWithPath: folder)
  var env = ProcessInfo.processInfo.environment
  for name in ["CIFAR10_DIR", "CIFAR10_ARCHIVE", "CIFAR10_SHA256"] { env[name] = nil }
  for (k, v) in environment { env[k] = v }
  p.environment = env
  let out = Pipe()
  let err = Pipe()
  p.standardOutput = out
  p.standardError = err
  try p.run()
  return Started(process: p, outPipe: out, errPipe: err)
}

func temporaryDirectory(_ test: XCTestCase) throws -> String {
  let dir = NSTemporaryDirectory() + "cnn-cli-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
  return dir
}

/// A CIFAR-10-format directory of random images whose label is carried by the image's mean
/// red level, so small models can learn it: `train` records in each training batch file.
func writeSyntheticCIFAR(_ dir: String, train: Int, test: Int, seed: UInt64 = 1) throws {
  var rng = SeededRandom(seed: seed)
  func records(_ n: Int) -> Data {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(n * 3073)
    for _ in 0..<n {
      let label = rng.nextInt(below: 10)
      bytes.append(UInt8(label))
      for plane in 0..<3 {
        for _ in 0..<1024 {
          let base = plane == 0 ? label * 25 : 100
          bytes.append(UInt8(min(255, base + rng.nextInt(below: 30))))
        }
      }
    }
    return Data(bytes)
  }
  for f in CIFAR10.trainFiles { try records(train).write(to: URL(fileURLWithPath: dir + "/" + f)) }
  try records(test).write(to: URL(fileURLWithPath: dir + "/test_batch.bin"))
  try CIFAR10.defaultClassNames.joined(separator: "\n").write(
    toFile: dir + "/batches.meta.txt", atomically: true, encoding: .utf8)
}

/// The real CIFAR-10 batches: Datasets/cifar-10-batches-bin if set up, else extracted from
/// ../shared/datasets/cifar-10-binary.tar.gz (or $CIFAR10_ARCHIVE) into a temporary folder.
func realCIFARDirectory(_ test: XCTestCase) throws -> String {
  let local = packageRoot + "/Datasets/cifar-10-batches-bin"
  if FileManager.default.fileExists(atPath: local + "/test_batch.bin") { return local }
  let archive =
    ProcessInfo.processInfo.environment["CIFAR10_ARCHIVE"]
    ?? (packageRoot as NSString).deletingLastPathComponent + "/shared/datasets/cifar-10-binary.tar.gz"
  guard FileManager.default.fileExists(atPath: archive) else {
    throw XCTSkip("no CIFAR-10 data: neither \(local) nor \(archive)")
  }
  let dir = try temporaryDirectory(test)
  let tar = Process()
  tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  tar.arguments = ["tar", "-xzf", archive, "-C", dir]
  try tar.run()
  tar.waitUntilExit()
  XCTAssertEqual(tar.terminationStatus, 0)
  return dir + "/cifar-10-batches-bin"
}

func readWeights(_ path: String) throws -> [String: [Float]] {
  let (tensors, _) = try SafeTensors.read(path)
  return tensors.mapValues { $0.scalars }
}
