import CNN
import Foundation
import XCTest

/// A layer written outside the package: y = x · scale + shift per channel (the last axis),
/// both trainable, with its own forward and backward through `makeOutput`.
final class ScaleShift: ConfigurableLayer {
  static let typeName = "ScaleShift"
  let initial: Float
  private(set) var scale: Variable?
  private(set) var shift: Variable?

  enum CodingKeys: CodingKey {
    case initial
  }

  init(initial: Float = 1) { self.initial = initial }

  var parameters: [Parameter] {
    guard let scale, let shift else { return [] }
    return [Parameter(name: "scale", variable: scale), Parameter(name: "shift", variable: shift)]
  }

  func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

  func build(inputShape: [Int], rng: inout SeededRandom) throws {
    guard let channels = inputShape.last else { throw LayerError("ScaleShift needs an input with channels") }
    scale = Variable(Tensor(shape: [channels], repeating: initial), requiresGrad: true)
    shift = Variable(Tensor(zeros: [channels]), requiresGrad: true)
  }

  func callAsFunction(_ x: Variable) throws -> Variable {
    let (scale, shift) = (try built(self.scale), try built(self.shift))
    let c = scale.shape[0]
    guard x.shape.last == c else { throw LayerError("ScaleShift expects \(c) channels, got \(x.shape)") }
    let y = Tensor(uninitialized: x.shape)
    for i in 0..<y.count { y.data[i] = x.value.data[i] * scale.value.data[i % c] + shift.value.data[i % c] }
    return makeOutput("scale_shift", y, inputs: [x, scale, shift]) { dy in
      let dx = Tensor(uninitialized: x.shape)
      let dScale = Tensor(zeros: [c])
      let dShift = Tensor(zeros: [c])
      for i in 0..<dy.count {
        dx.data[i] = dy.data[i] * scale.value.data[i % c]
        dScale.data[i % c] += dy.data[i] * x.value.data[i]
        dShift.data[i % c] += dy.data[i]
      }
      return [dx, dScale, dShift]
    }
  }
}

final class CustomLayerTests: XCTestCase {
  func testCustomLayerGradients() throws {
    let layer = ScaleShift(initial: 0.5)
    var rng = SeededRandom(seed: 1)
    try layer.build(inputShape: [3, 3, 4], rng: &rng)
    for p in layer.parameters { p.variable.value = randomTensor(p.variable.shape, seed: 7) }
    try checkGradients([randomTensor([2, 3, 3, 4], seed: 2)], parameters: layer.parameters.map(\.variable)) {
      try probe(try layer($0[0]), seed: 3)
    }
  }

  func testPublicOpsOnVariablesHaveTheirGradients() throws {
    let a = randomTensor([3, 4], seed: 1)
    let b = randomTensor([3, 4], seed: 2)
    let w = randomTensor([4, 5], seed: 3)
    try checkGradients([a, b]) { try probe(try $0[0] + $0[1], seed: 4) }
    try checkGradients([a, b]) { try probe(try $0[0] - $0[1], seed: 5) }
    try checkGradients([a, b]) { try probe(try $0[0] * $0[1], seed: 6) }
    try checkGradients([a]) { try probe(-(2.5 * $0[0]), seed: 7) }
    try checkGradients([a, w]) { try probe(try matmul($0[0], $0[1]), seed: 8) }
    try checkGradients([a]) { mean(mapElements($0[0], "cube", { $0 * $0 * $0 }) { x, _ in 3 * x * x }) }
    XCTAssertThrowsError(try Variable(a) + Variable(w)) { XCTAssert("\($0)".contains("differ"), "\($0)") }
    XCTAssertEqual(try (Variable(a) + Variable(b)).value[5], a[5] + b[5])
    XCTAssertEqual(try matmul(Variable(a), Variable(w)).shape, [3, 5])
  }

  func testACustomLayerTrainsInAModelAndRestoresFromItsCheckpoint() throws {
    LayerRegistry.register(ScaleShift.self)
    let model = try Sequential(inputShape: [6, 6, 1], seed: 1) {
      ScaleShift(initial: 2)
      Conv2D(filters: 4, kernelSize: (3, 3), activation: .relu)
      Flatten()
      Dense(units: 2)
    }
    model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(fromLogits: true))
    let data = try bars(count: 200, seed: 3)
    let history = try model.fit(data, epochs: 5, batchSize: 20)
    XCTAssertLessThan(history.last!.loss, history.first!.loss)
    XCTAssertNotEqual(model.namedParameters[0].variable.value.scalars, [2], "the custom layer's scale trained")
    let path = NSTemporaryDirectory() + "cnn-extension-\(UUID().uuidString).safetensors"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.save(to: path)
    let restored = try Sequential.restored(from: path)
    XCTAssert(restored.layers[0] is ScaleShift)
    XCTAssertEqual(try restored.evaluate(data).accuracy, try model.evaluate(data).accuracy)
    XCTAssertEqual(try restored.predict(data.inputs).scalars, try model.predict(data.inputs).scalars)
  }
}

/// Two classes of 6×6×1 float images: a bright vertical bar (1) or horizontal one (0).
func bars(count: Int, seed: UInt64) throws -> TensorDataset {
  var rng = SeededRandom(seed: seed)
  let x = Tensor(zeros: [count, 6, 6, 1])
  var labels: [Int] = []
  for n in 0..<count {
    let label = rng.nextInt(below: 2)
    let at = rng.nextInt(below: 6)
    for y in 0..<6 {
      for xx in 0..<6 {
        let on = label == 1 ? xx == at : y == at
        x[n * 36 + y * 6 + xx] = (on ? 0.7 : 0) + 0.2 * rng.nextFloat()
      }
    }
    labels.append(label)
  }
  return try TensorDataset(inputs: x, labels: labels)
}
