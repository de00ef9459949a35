// An ONNX graph being built (onnx.proto's ModelProto, GraphProto, NodeProto, TensorProto):
// nodes in order, weights as initializers, one float input and one output with a symbolic
// batch size. Opset 17, IR version 8: what every current ONNX Runtime runs.

/// A node attribute.
enum ONNXAttribute {
  case int(String, Int)
  case ints(String, [Int])
  case float(String, Float)
}

final class ONNXGraph {
  static let opset = 17
  private var nodes: [ProtoMessage] = []
  private var initializers: [ProtoMessage] = []
  private var names = 0

  private func fresh(_ hint: String) -> String {
    names += 1
    return "\(hint)_\(names)"
  }

  /// A float tensor of weights or constants; its name.
  func constant(_ hint: String, shape: [Int], _ values: [Float]) -> String {
    let name = fresh(hint)
    var t = ProtoMessage()
    t.ints(1, shape)
    t.int(2, 1)  // FLOAT
    t.string(8, name)
    var raw: [UInt8] = []
    raw.reserveCapacity(4 * values.count)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 } }
    t.bytes(9, raw)
    initializers.append(t)
    return name
  }

  /// A one-value float constant.
  func scalar(_ value: Float) -> String { constant("c", shape: [], [value]) }

  /// An int64 tensor (a shape, a count, axes); its name.
  func integers(_ hint: String, _ values: [Int]) -> String {
    let name = fresh(hint)
    var t = ProtoMessage()
    t.ints(1, [values.count])
    t.int(2, 7)  // INT64
    t.string(8, name)
    t.ints(7, values)
    initializers.append(t)
    return name
  }

  /// A node of `op` on `inputs`; the name of its first output (`outputs` are made, the rest
  /// unused), `named` if given.
  @discardableResult
  func node(
    _ op: String, _ inputs: [String], _ attributes: [ONNXAttribute] = [], outputs: Int = 1, named: String? = nil
  ) -> String {
    var out = (0..<outputs).map { _ in fresh(op.lowercased()) }
    if let named { out[0] = named }
    var n = ProtoMessage()
    for i in inputs { n.string(1, i) }
    for o in out { n.string(2, o) }
    n.string(3, out[0])
    n.string(4, op)
    for a in attributes {
      var m = ProtoMessage()
      switch a {
      case .int(let name, let v):
        m.string(1, name)
        m.int(3, v)
        m.int(20, 2)
      case .ints(let name, let v):
        m.string(1, name)
        m.ints(8, v)
        m.int(20, 7)
      case .float(let name, let v):
        m.string(1, name)
        m.float(2, v)
        m.int(20, 1)
      }
      n.message(5, m)
    }
    nodes.append(n)
    return out[0]
  }

  /// The ModelProto: `input` of shape [N] + `inputShape`, `output` of [N] + `outputShape`.
  func model(input: String, inputShape: [Int], output: String, outputShape: [Int], name: String) -> [UInt8] {
    func valueInfo(_ name: String, _ shape: [Int]) -> ProtoMessage {
      var dims = ProtoMessage()
      var batch = ProtoMessage()
      batch.string(2, "N")
      dims.message(1, batch)
      for d in shape {
        var dim = ProtoMessage()
        dim.int(1, d)
        dims.message(1, dim)
      }
      var tensor = ProtoMessage()
      tensor.int(1, 1)
      tensor.message(2, dims)
      var type = ProtoMessage()
      type.message(1, tensor)
      var info = ProtoMessage()
      info.string(1, name)
      info.message(2, type)
      return info
    }
    var graph = ProtoMessage()
    for n in nodes { graph.message(1, n) }
    graph.string(2, name)
    for t in initializers { graph.message(5, t) }
    graph.message(11, valueInfo(input, inputShape))
    graph.message(12, valueInfo(output, outputShape))
    var opset = ProtoMessage()
    opset.string(1, "")
    opset.int(2, Self.opset)
    var model = ProtoMessage()
    model.int(1, 8)
    model.string(2, "CNN (Swift)")
    model.message(7, graph)
    model.message(8, opset)
    return model.bytes
  }
}
