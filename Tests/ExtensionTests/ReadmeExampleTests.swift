import CNN
import Foundation
import XCTest

// The README's "Extend it" examples, verbatim, so that CI compiles and runs them.

/// y = x · scale per channel, with a trainable scale.
final class ChannelScale: ConfigurableLayer {
  static let typeName = "ChannelScale"  // its configs' name
  enum CodingKeys: CodingKey {}  // the options its configs keep: none
  private(set) var scale: Variable?
  init() {}
  var parameters: [Parameter] { scale.map { [Parameter(name: "scale", variable: $0)] } ?? [] }
  func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
  func build(inputShape: [Int], rng: inout SeededRandom) throws {
    scale = Variable(Tensor(shape: [inputShape.last ?? 1], repeating: 1), requiresGrad: true)
  }
  func callAsFunction(_ x: Variable) throws -> Variable {
    let s = try built(scale), c = s.shape[0]
    let y = Tensor(uninitialized: x.shape)
    for i in 0..<y.count { y.data[i] = x.value.data[i] * s.value.data[i % c] }
    return makeOutput("channel_scale", y, inputs: [x, s]) { dy in
      let dx = Tensor(uninitialized: x.shape), ds = Tensor(zeros: s.shape)
      for i in 0..<dy.count {
        dx.data[i] = dy.data[i] * s.value.data[i % c]
        ds.data[i % c] += dy.data[i] * x.value.data[i]
      }
      return [dx, ds]  // one gradient per input, in order
    }
  }
}

final class ReadmeExampleTests: XCTestCase {
  /// The code here is the README's: each Swift block of its "Extend it" section appears in
  /// this file (the first as is, the second indented into the test below).
  func testTheExamplesAreTheReadmes() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let section = try XCTUnwrap(readme.range(of: "### Extend it")).upperBound
    let source = try String(contentsOf: here, encoding: .utf8)
    var blocks: [String] = []
    var rest = readme[section...]
    while blocks.count < 2, let open = rest.range(of: "```swift\n"),
      let close = rest[open.upperBound...].range(of: "```")
    {
      blocks.append(String(rest[open.upperBound..<close.lowerBound]))
      rest = rest[close.upperBound...]
    }
    XCTAssertEqual(blocks.count, 2)
    XCTAssert(source.contains(blocks[0].replacingOccurrences(of: "import CNN\n\n", with: "")), "first block")
    let indented = blocks[1].split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.isEmpty ? "" : "    " + $0
    }
    XCTAssert(source.contains(indented.joined(separator: "\n")), "second block")
  }

  func testTheReadmeExamplesBuildAndTrain() throws {
    let model = try Sequential(inputShape: [32, 32, 3]) {
      Conv2D(filters: 64, kernelSize: (3, 3), padding: .same, activation: .relu)
      try Residual {  // output = input + block(input)
        Conv2D(filters: 64, kernelSize: (3, 3), padding: .same, activation: .relu)
        BatchNormalization()
      }
      try Sequential {  // a block, built with the model that holds it
        MaxPooling2D()
        GlobalAveragePooling2D()
      }
      ChannelScale()
      Dense(units: 10)
    }
    let squaredError = Loss(name: "mean_squared_error") { output, labels in
      let target = Tensor(zeros: output.shape)
      for (r, l) in labels.enumerated() { target[r * output.shape[1] + l] = 1 }
      let d = try output - Variable(target)
      return mean(try d * d)
    }
    model.compile(optimizer: Adam(), loss: squaredError, metrics: [.topKAccuracy(5)])
    let x = Tensor(zeros: [4, 32, 32, 3])
    for i in 0..<x.count { x[i] = Float(i % 7) / 7 }
    let data = try TensorDataset(inputs: x, labels: [0, 1, 2, 3])
    let history = try model.fit(data, epochs: 2, batchSize: 2)
    XCTAssert(history.allSatisfy { $0.loss.isFinite })
    XCTAssertNotNil(history.last?.metrics?["top_5_accuracy"])
    XCTAssertEqual(model.layerNames, ["conv2d", "residual", "sequential", "channel_scale", "dense"])
  }
}
