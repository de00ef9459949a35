import Autograd
import Datasets
import Layers
import Optimizers
import Tensors

extension Sequential {
  /// A Keras-style table: Layer (type), Output Shape, Param #, and the totals.
  public func summary() -> String {
    func shapeText(_ s: [Int]) -> String { "(None, " + s.map(String.init).joined(separator: ", ") + ")" }
    let rows = zip(layerNames, zip(layers, outputShapes)).map { name, pair in
      ("\(name) (\(pair.0.typeName))", shapeText(pair.1), grouped(pair.0.parameterCount))
    }
    let w0 = max(29, (rows.map { $0.0.count }.max() ?? 0) + 3)
    let w1 = max(26, (rows.map { $0.1.count }.max() ?? 0) + 2)
    let w2 = 10
    let width = w0 + w1 + w2
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    var out = "Model: \"\(name)\"\n"
    out += String(repeating: "_", count: width) + "\n"
    out += pad(" Layer (type)", w0) + pad("Output Shape", w1) + "Param #\n"
    out += String(repeating: "=", count: width) + "\n"
    for (i, r) in rows.enumerated() {
      out += pad(" " + r.0, w0) + pad(r.1, w1) + r.2 + "\n"
      out += (i == rows.count - 1 ? "" : "\n")
    }
    out += String(repeating: "=", count: width) + "\n"
    out += "Total params: \(grouped(parameterCount))\n"
    out += "Trainable params: \(grouped(trainableParameterCount))\n"
    out += "Non-trainable params: \(grouped(parameterCount - trainableParameterCount))\n"
    out += String(repeating: "_", count: width) + "\n"
    return out
  }
}

/// 167562 -> "167,562"
func grouped(_ n: Int) -> String {
  let s = String(n)
  var out = ""
  for (i, ch) in s.enumerated() {
    if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
    out.append(ch)
  }
  return out
}
