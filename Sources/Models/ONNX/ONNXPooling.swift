import Layers
import Tensors

// Every pooling kind of the framework as ONNX nodes (NCHW images in, NCHW or [N, C] out).

extension ONNXExporter {
  /// The nodes of a pooling layer, nil if `layer` is not one.
  func pooling(_ layer: any Layer, _ x: String, _ shape: [Int], _ out: [Int]) throws -> String? {
    switch layer {
    case let l as MaxPooling2D: return window("MaxPool", l, x, shape)
    case let l as AveragePooling2D: return window("AveragePool", l, x, shape, [.int("count_include_pad", 0)])
    case let l as MinPooling2D: return negated(window("MaxPool", l, negated(x), shape))
    case let l as LpPooling2D: return lp(l.p, x, global: nil, window: l, shape)
    case let l as MixedPooling2D:
      let max = window("MaxPool", l, x, shape)
      let average = window("AveragePool", l, x, shape, [.int("count_include_pad", 0)])
      return try mixed(l.mixing, weight(l, "mixing"), max, average, shape)
    case let l as AvgTopKPooling2D: return try topK(l, x, shape, out)
    case is GlobalMaxPooling2D: return flat(graph.node("GlobalMaxPool", [x]))
    case is GlobalAveragePooling2D: return flat(graph.node("GlobalAveragePool", [x]))
    case is GlobalMinPooling2D: return negated(flat(graph.node("GlobalMaxPool", [negated(x)])))
    case let l as GlobalLpPooling2D: return flat(lp(l.p, x, global: shape, window: nil, shape))
    case let l as GlobalMixedPooling2D:
      let max = flat(graph.node("GlobalMaxPool", [x]))
      let average = flat(graph.node("GlobalAveragePool", [x]))
      return try mixed(l.mixing, weight(l, "mixing"), max, average, [shape[2]])
    case let l as GlobalAvgTopKPooling2D:
      let cells = graph.node("Reshape", [x, graph.integers("shape", [0, shape[2], shape[0] * shape[1]])])
      return meanOfTopK(cells, l.k)
    default: return nil
    }
  }

  private func negated(_ x: String) -> String { graph.node("Neg", [x]) }

  private func flat(_ x: String) -> String { graph.node("Flatten", [x], [.int("axis", 1)]) }

  /// A windowed ONNX pooling with the layer's window, strides and padding.
  private func window(
    _ op: String, _ l: Pooling2D, _ x: String, _ shape: [Int], _ extra: [ONNXAttribute] = []
  ) -> String {
    graph.node(
      op, [x],
      [
        .ints("kernel_shape", [l.poolSize.0, l.poolSize.1]), .ints("strides", [l.strides.0, l.strides.1]),
        .ints("pads", pads(l.padding, shape, kernel: l.poolSize, strides: l.strides)),
      ] + extra)
  }

  /// (Σ xᵖ)^(1/p) over each window or the whole image: ONNX's LpPool for an even p (it sums
  /// |x|ᵖ, the same then), else powers around a sum (an average over the window, padding
  /// counted as zeros, times its size). Where xᵖ overflows a float (x above 4 at p = 64) our
  /// layer rescales by the window's largest value and ONNX Runtime gives infinity.
  private func lp(_ p: Float, _ x: String, global: [Int]?, window l: Pooling2D?, _ shape: [Int]) -> String {
    if p.truncatingRemainder(dividingBy: 2) == 0, p >= 2, p <= 64 {
      if global != nil { return graph.node("GlobalLpPool", [x], [.int("p", Int(p))]) }
      return window("LpPool", l!, x, shape, [.int("p", Int(p))])
    }
    let powered = graph.node("Pow", [x, graph.scalar(p)])
    let sum: String
    if global != nil {
      sum = graph.node("ReduceSum", [powered, graph.integers("axes", [2, 3])], [.int("keepdims", 1)])
    } else {
      let mean = window("AveragePool", l!, powered, shape, [.int("count_include_pad", 1)])
      sum = graph.node("Mul", [mean, graph.scalar(Float(l!.poolSize.0 * l!.poolSize.1))])
    }
    return graph.node("Pow", [sum, graph.scalar(1 / p)])
  }

  /// λ · max + (1 − λ) · average, λ clamped to [0, 1] as the layer does (0.5 for random mixing
  /// at inference).
  private func mixed(_ mixing: Mixing, _ learned: Tensor?, _ max: String, _ average: String, _ shape: [Int]) throws
    -> String
  {
    var lambda: [Float]
    switch mixing {
    case .learned:
      guard let learned else { throw ModelError("the layer is not built") }
      lambda = learned.scalars
    case .random: lambda = [0.5]
    case .fixed(let v): lambda = [v]
    }
    lambda = lambda.map { Swift.min(1, Swift.max(0, $0)) }
    let l = lambda.count == 1 ? graph.scalar(lambda[0]) : channels(lambda, shape)
    let rest = lambda.count == 1 ? graph.scalar(1 - lambda[0]) : channels(lambda.map { 1 - $0 }, shape)
    return graph.node("Add", [graph.node("Mul", [max, l]), graph.node("Mul", [average, rest])])
  }

  /// The mean of the k largest values along the last axis, which is dropped.
  private func meanOfTopK(_ x: String, _ k: Int) -> String {
    let top = graph.node("TopK", [x, graph.integers("k", [k])], [.int("axis", -1)], outputs: 2)
    return graph.node("ReduceMean", [top], [.ints("axes", [-1]), .int("keepdims", 0)])
  }

  /// Avg-TopK over windows that tile the image (window = strides, no padding needed): each
  /// window's cells gathered on a last axis by Reshape and Transpose, then TopK and ReduceMean.
  private func topK(_ l: AvgTopKPooling2D, _ x: String, _ shape: [Int], _ out: [Int]) throws -> String {
    let (kh, kw) = l.poolSize
    let tiles = l.strides == l.poolSize && (l.padding == .valid || (shape[0] % kh == 0 && shape[1] % kw == 0))
    guard tiles else {
      throw ModelError(
        "AvgTopKPooling2D with overlapping or padded windows has no ONNX form in this exporter (windows must tile the image)"
      )
    }
    let (ho, wo, c) = (out[0], out[1], shape[2])
    var y = x
    if ho * kh != shape[0] || wo * kw != shape[1] {
      // Valid padding: the cells past the last whole window are dropped.
      y = graph.node(
        "Slice",
        [
          y, graph.integers("starts", [0, 0]), graph.integers("ends", [ho * kh, wo * kw]),
          graph.integers("axes", [2, 3]),
        ])
    }
    y = graph.node("Reshape", [y, graph.integers("shape", [0, c, ho, kh, wo, kw])])
    y = graph.node("Transpose", [y], [.ints("perm", [0, 1, 2, 4, 3, 5])])
    y = graph.node("Reshape", [y, graph.integers("shape", [0, c, ho, wo, kh * kw])])
    return meanOfTopK(y, l.k)
  }
}
