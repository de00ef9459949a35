import Autograd
import Foundation
import Layers
import Tensors

// A model's inference graph as ONNX. The input is NHWC, as `predict` takes it, so that the
// same arrays go to both; a Transpose inside the graph turns it to the NCHW that ONNX's
// convolutions and poolings expect, and another turns it back before Flatten, whose order
// the Dense weights after it were trained on. Dropout is left out; batch normalisation uses
// its moving statistics. Pooling kinds ONNX lacks are composed of standard operators: min as
// a max of negatives, mixed as λ·max + (1 − λ)·average, Avg-TopK as TopK and ReduceMean over
// each window's cells, Lp with a fractional p as powers around a sum.

extension Sequential {
  /// The model's inference graph as an ONNX file (opset 17). A layer with no ONNX form (a
  /// custom layer, an Avg-TopK pooling with overlapping windows) is refused by name.
  public func onnxModel() throws -> [UInt8] {
    guard isBuilt else { throw ModelError("the model is not built: give it an input shape") }
    let exporter = ONNXExporter()
    var x = "input"
    if inputShape.count == 3 { x = exporter.graph.node("Transpose", [x], [.ints("perm", [0, 3, 1, 2])]) }
    x = try exporter.emit(layers, x, shape: inputShape, path: "")
    let output = exporter.graph.node("Identity", [exporter.nhwc(x, outputShape)], named: "output")
    return exporter.graph.model(
      input: "input", inputShape: inputShape, output: output, outputShape: outputShape, name: name)
  }

  /// Writes `onnxModel()` to `path`, atomically.
  public func exportONNX(to path: String) throws {
    do {
      try writeAtomically(try onnxModel(), to: path, what: "the ONNX file")
    } catch let e as TensorError {
      throw ModelError(e.message)
    }
  }
}

/// Walks the layers, adding each one's nodes. Image tensors are NCHW inside the graph.
final class ONNXExporter {
  let graph = ONNXGraph()

  /// `x` back in NHWC if it is an image, for Flatten and the output.
  func nhwc(_ x: String, _ shape: [Int]) -> String {
    shape.count == 3 ? graph.node("Transpose", [x], [.ints("perm", [0, 2, 3, 1])]) : x
  }

  func emit(_ layers: [any Layer], _ input: String, shape: [Int], path: String) throws -> String {
    var (x, s) = (input, shape)
    for (i, layer) in layers.enumerated() {
      let position = path.isEmpty ? "\(i + 1)" : "\(path).\(i + 1)"
      let out = try layer.outputShape(for: s)
      do {
        x = try emit(layer, x, shape: s, out: out, position: position)
      } catch let error as ModelError {
        throw ModelError("layer \(position) (\(layer.typeName)): \(error.message)")
      }
      s = out
    }
    return x
  }

  /// The weight named `name` of `layer`.
  func weight(_ layer: any Layer, _ name: String) -> Tensor? {
    layer.parameters.first { $0.name == name }?.variable.value
  }

  private func emit(_ layer: any Layer, _ x: String, shape: [Int], out: [Int], position: String) throws -> String {
    switch layer {
    case let l as Conv2D: return try convolution(l, x, shape)
    case let l as Dense: return try dense(l, x)
    case let l as BatchNormalization: return try batchNormalization(l, x, shape)
    case let l as Normalization: return try normalization(l, x, shape)
    case let l as Rescaling:
      return graph.node("Add", [graph.node("Mul", [x, graph.scalar(l.scale)]), graph.scalar(l.offset)])
    case is ReLU: return graph.node("Relu", [x])
    case is GELU: return gelu(x)
    case is Softmax: return graph.node("Softmax", [x], [.int("axis", shape.count == 3 ? 1 : -1)])
    case is Dropout: return x
    case is Flatten: return graph.node("Flatten", [nhwc(x, shape)], [.int("axis", 1)])
    case let l as Residual: return graph.node("Add", [x, try emit(l.block.layers, x, shape: shape, path: position)])
    case let l as Sequential: return try emit(l.layers, x, shape: shape, path: position)
    default:
      if let pooled = try pooling(layer, x, shape, out) { return pooled }
      throw ModelError("\(layer.typeName) has no ONNX form in this exporter")
    }
  }

  private func activation(_ a: Activation, _ x: String, image: Bool) -> String {
    switch a {
    case .linear: return x
    case .relu: return graph.node("Relu", [x])
    case .gelu: return gelu(x)
    case .softmax: return graph.node("Softmax", [x], [.int("axis", image ? 1 : -1)])
    }
  }

  /// GELU as ours computes it: x · Φ(x) = x · (1 + erf(x / √2)) / 2.
  private func gelu(_ x: String) -> String {
    let erf = graph.node("Erf", [graph.node("Mul", [x, graph.scalar(Float(0.5.squareRoot()))])])
    let half = graph.node("Mul", [graph.node("Add", [erf, graph.scalar(1)]), graph.scalar(0.5)])
    return graph.node("Mul", [x, half])
  }

  /// Keras's "same": as many padded cells as the windows need, the odd one at the end.
  func pads(_ padding: Padding, _ shape: [Int], kernel: (Int, Int), strides: (Int, Int)) -> [Int] {
    guard padding == .same else { return [0, 0, 0, 0] }
    func split(_ n: Int, _ k: Int, _ s: Int) -> (Int, Int) {
      let total = Swift.max(((n + s - 1) / s - 1) * s + k - n, 0)
      return (total / 2, total - total / 2)
    }
    let (top, bottom) = split(shape[0], kernel.0, strides.0)
    let (left, right) = split(shape[1], kernel.1, strides.1)
    return [top, left, bottom, right]
  }

  private func convolution(_ l: Conv2D, _ x: String, _ shape: [Int]) throws -> String {
    guard let kernel = l.kernel?.value else { throw ModelError("the layer is not built") }
    let (kh, kw, cin, cout) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
    // HWIO → OIHW.
    let k = kernel.scalars
    var w = [Float](repeating: 0, count: k.count)
    for i in 0..<kh {
      for j in 0..<kw {
        for c in 0..<cin {
          for f in 0..<cout {
            let to: Int = ((f * cin + c) * kh + i) * kw + j
            let from: Int = ((i * kw + j) * cin + c) * cout + f
            w[to] = k[from]
          }
        }
      }
    }
    var inputs = [x, graph.constant("kernel", shape: [cout, cin, kh, kw], w)]
    if let b = l.bias { inputs.append(graph.constant("bias", shape: [cout], b.value.scalars)) }
    let y = graph.node(
      "Conv", inputs,
      [
        .ints("kernel_shape", [kh, kw]), .ints("strides", [l.strides.0, l.strides.1]),
        .ints("pads", pads(l.padding, shape, kernel: (kh, kw), strides: l.strides)),
      ])
    return activation(l.activation, y, image: true)
  }

  private func dense(_ l: Dense, _ x: String) throws -> String {
    guard let kernel = l.kernel?.value else { throw ModelError("the layer is not built") }
    let w = graph.constant("kernel", shape: kernel.shape, kernel.scalars)
    let y =
      l.bias.map { graph.node("Gemm", [x, w, graph.constant("bias", shape: $0.shape, $0.value.scalars)]) }
      ?? graph.node("MatMul", [x, w])
    return activation(l.activation, y, image: false)
  }

  private func batchNormalization(_ l: BatchNormalization, _ x: String, _ shape: [Int]) throws -> String {
    // ONNX normalises axis 1: our channels there for images (NCHW) and vectors only.
    guard shape.count == 1 || shape.count == 3 else {
      throw ModelError("BatchNormalization of a rank-\(shape.count) input has no ONNX form in this exporter")
    }
    guard let mean = weight(l, "moving_mean"), let variance = weight(l, "moving_variance") else {
      throw ModelError("the layer is not built")
    }
    let c = mean.count
    let gamma = weight(l, "gamma")?.scalars ?? [Float](repeating: 1, count: c)
    let beta = weight(l, "beta")?.scalars ?? [Float](repeating: 0, count: c)
    let inputs = [x] + [gamma, beta, mean.scalars, variance.scalars].map { graph.constant("bn", shape: [c], $0) }
    return graph.node("BatchNormalization", inputs, [.float("epsilon", l.epsilon)])
  }

  /// Per-channel constants shaped to broadcast over an NCHW image or an [N, C] matrix.
  func channels(_ values: [Float], _ shape: [Int]) -> String {
    graph.constant("channels", shape: shape.count == 3 ? [1, values.count, 1, 1] : [1, values.count], values)
  }

  private func normalization(_ l: Normalization, _ x: String, _ shape: [Int]) throws -> String {
    let m = weight(l, "mean")?.scalars ?? l.mean
    let v = weight(l, "variance")?.scalars ?? l.variance
    let scale = v.map { 1 / Swift.max($0.squareRoot(), 1e-7) }
    let shift = zip(m, scale).map { -$0 * $1 }
    return graph.node("Add", [graph.node("Mul", [x, channels(scale, shape)]), channels(shift, shape)])
  }
}
