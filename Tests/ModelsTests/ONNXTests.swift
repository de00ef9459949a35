import CNN
import Foundation
import XCTest

/// Exported models checked by the real consumers: onnx's checker passes them and ONNX Runtime's
/// outputs match `predict` on the same inputs, for every kind of layer the exporter knows.
/// Skipped where Python's onnx and onnxruntime are missing (CI installs them in a virtual
/// environment and names its python in CNN_ONNX_PYTHON).
final class ONNXTests: XCTestCase {
  private var python = ""
  private var dir = ""

  override func setUpWithError() throws {
    let candidates = [ProcessInfo.processInfo.environment["CNN_ONNX_PYTHON"], "/usr/bin/python3"].compactMap { $0 }
    guard let found = candidates.first(where: { run($0, ["-c", "import onnx, onnxruntime"]).status == 0 }) else {
      throw XCTSkip("Python's onnx and onnxruntime are missing (set CNN_ONNX_PYTHON to a python that has them)")
    }
    python = found
    dir = NSTemporaryDirectory() + "onnx-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  private func run(_ executable: String, _ args: [String]) -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    let pipe = Pipe()
    (p.standardOutput, p.standardError) = (pipe, pipe)
    guard (try? p.run()) != nil else { return (-1, "cannot start \(executable)") }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
  }

  /// Every weight set to random values (variances positive, mixing weights in [0, 1]), so that
  /// batch norm's moving statistics and the like are not their neutral starting values.
  private func randomize(_ model: Sequential, seed: UInt64) {
    var rng = SeededRandom(seed: seed)
    for p in model.parameters {
      let t = p.variable.value
      for i in 0..<t.count {
        let u = rng.nextFloat()
        t.data[i] = p.name.contains("variance") ? 0.5 + u : p.name == "mixing" ? u : (u - 0.5) * 0.6
      }
    }
  }

  /// Exports `model`, runs it in ONNX Runtime on `count` random images and returns the largest
  /// difference from `predict`.
  @discardableResult
  private func check(_ model: Sequential, _ label: String, count: Int = 16, inputs given: Tensor? = nil) throws
    -> Float
  {
    let path = dir + "/\(label).onnx"
    try model.exportONNX(to: path)
    var rng = SeededRandom(seed: 5)
    let x = given ?? Tensor(uninitialized: [count] + model.inputShape)
    if given == nil { for i in 0..<x.count { x.data[i] = rng.nextFloat() } }
    let y = try model.predict(x)
    let inputs = dir + "/\(label).in", outputs = dir + "/\(label).out"
    try Data(bytes: x.data, count: 4 * x.count).write(to: URL(fileURLWithPath: inputs))
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Scripts/check-onnx.py").path
    let r = run(python, [script, path, inputs, outputs])
    XCTAssertEqual(r.status, 0, "\(label): \(r.out)")
    XCTAssertTrue(r.out.contains("onnx.checker: passed"), r.out)
    let theirs = try Data(contentsOf: URL(fileURLWithPath: outputs)).withUnsafeBytes {
      Array($0.bindMemory(to: Float.self))
    }
    XCTAssertEqual(theirs.count, y.count, label)
    var largest: Float = 0
    for (a, b) in zip(y.scalars, theirs) { largest = max(largest, abs(a - b)) }
    // Float rounding in another order of summation: relative to the outputs' size.
    let scale = max(1, y.scalars.map(abs).max() ?? 0)
    XCTAssertLessThan(largest / scale, 1e-5, "\(label): \(largest) of outputs up to \(scale)")
    return largest
  }

  func testZooModelsAndEveryPoolingMatchONNXRuntime() throws {
    for name in ["seed", "fast93"] {
      let model = try Zoo.model(name, seed: 1)
      randomize(model, seed: 2)
      try check(model, name)
    }
    let poolings: [PoolingChoice] = [.max, .average, .min, .mixed, .lp(p: 2), .lp(p: 3), .lp(p: 2.5), .avgTopK(k: 2)]
    for pooling in poolings {
      let model = try Zoo.model("seed", seed: 3, pooling: pooling)
      randomize(model, seed: 4)
      try check(model, "seed-\(pooling)")
    }
  }

  /// Every other layer: padding and strides, activations, batch norm with scale and offset,
  /// normalisation, dropout, a residual block, and each global pooling, with 'same' windows.
  func testEveryLayerKindMatchesONNXRuntime() throws {
    let globals: [any Layer] = [
      GlobalMaxPooling2D(), GlobalAveragePooling2D(), GlobalMinPooling2D(), GlobalAvgTopKPooling2D(k: 3),
      GlobalLpPooling2D(p: 2), GlobalLpPooling2D(p: 1.5), GlobalMixedPooling2D(.learned(perChannel: true)),
    ]
    for (i, global) in globals.enumerated() {
      let model = try Sequential(inputShape: [9, 7, 3], seed: 1) {
        Normalization(mean: [0.5, 0.4, 0.3], variance: [0.04, 0.09, 0.01])
        Conv2D(filters: 6, kernelSize: (3, 3), strides: (2, 1), padding: .same, activation: .gelu)
        BatchNormalization()
        MaxPooling2D(poolSize: (3, 3), strides: (1, 1), padding: .same)
        AveragePooling2D(poolSize: (2, 2), strides: (1, 2), padding: .same)
        MixedPooling2D(.fixed(0.3), poolSize: (2, 2), strides: (1, 1), padding: .same)
        try Residual {
          Conv2D(filters: 6, kernelSize: (3, 3), padding: .same, activation: .relu)
          Dropout(rate: 0.5)
        }
        global
        Dense(units: 8, activation: .relu)
        BatchNormalization()
        Rescaling(scale: 0.5, offset: 0.1)
        Dense(units: 4)
        Softmax()
      }
      randomize(model, seed: UInt64(i))
      try check(model, "layers-\(global.typeName)")
    }
  }

  /// A layer the exporter does not know is refused with its name and position.
  func testCustomLayerIsRefusedByName() throws {
    final class Doubler: Layer {
      var typeName: String { "Doubler" }
      func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
      func callAsFunction(_ x: Variable) throws -> Variable { x }
    }
    let model = try Sequential(inputShape: [4, 4, 1]) {
      Conv2D(filters: 2, kernelSize: (3, 3))
      Doubler()
    }
    XCTAssertThrowsError(try model.exportONNX(to: dir + "/x.onnx")) {
      XCTAssertEqual("\($0)", "layer 2 (Doubler): Doubler has no ONNX form in this exporter")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.onnx"))
  }

  /// Trained checkpoints (CNN_ONNX_CHECKPOINTS, paths separated by colons) on CIFAR-10 test
  /// images (CNN_ONNX_IMAGES of them, default 1,000, from Datasets/ or CIFAR10_DIR): the
  /// largest difference between ONNX Runtime's outputs and ours, and the file's size. Skipped
  /// without checkpoints.
  func testTrainedCheckpointsOnTestImages() throws {
    let env = ProcessInfo.processInfo.environment
    guard let list = env["CNN_ONNX_CHECKPOINTS"] else { throw XCTSkip("no CNN_ONNX_CHECKPOINTS given") }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().path
    let data = env["CIFAR10_DIR"] ?? root + "/Datasets/cifar-10-batches-bin"
    let count = Int(env["CNN_ONNX_IMAGES"] ?? "") ?? 1000
    let test = try CIFAR10.load(directory: data, split: .test, limit: count)
    for checkpoint in list.split(separator: ":").map(String.init) {
      let model = try Sequential.restored(from: checkpoint)
      _ = try model.load(from: checkpoint)
      let x = Tensor(uninitialized: [count, 32, 32, 3])
      for i in 0..<x.count { x.data[i] = Float(test.images[i]) / 255 }
      let name = (checkpoint as NSString).lastPathComponent
      let largest = try check(model, name, inputs: x)
      let size = try FileManager.default.attributesOfItem(atPath: dir + "/\(name).onnx")[.size] as? Int ?? 0
      print("ONNX \(name): \(count) test images, largest difference \(largest), \(size) bytes")
    }
  }
}
