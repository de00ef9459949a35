import Tensors

// Global max and average pooling, [N, H, W, C] -> [N, C]; the other global poolings are
// their windowed op over the whole image (Layers/Pooling/).

/// Global max pooling: [N, H, W, C] -> [N, C].
public func globalMaxPool2d(_ x: Variable) throws -> Variable {
  guard x.shape.count == 4 else { throw TensorError("global pooling expects an NHWC input, got shape \(x.shape)") }
  let (n, hw, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
  let y = Tensor(shape: [n, c], repeating: -Float.infinity)
  let holder = IndexBuffer(count: n * c)
  let argmax = holder.pointer
  let xp = x.value.data
  for b in 0..<n {
    for ch in 0..<c { argmax[b * c + ch] = Int32((b * hw) * c + ch) }
    for p in 0..<hw {
      let i = (b * hw + p) * c
      for ch in 0..<c where xp[i + ch] > y.data[b * c + ch] {
        y.data[b * c + ch] = xp[i + ch]
        argmax[b * c + ch] = Int32(i + ch)
      }
    }
  }
  let inShape = x.shape
  return makeOutput("global_max_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(zeros: inShape)
    for i in 0..<dy.count { dx.data[Int(holder.pointer[i])] += dy.data[i] }
    return [dx]
  }
}

/// Global average pooling: [N, H, W, C] -> [N, C].
public func globalAvgPool2d(_ x: Variable) throws -> Variable {
  guard x.shape.count == 4 else { throw TensorError("global pooling expects an NHWC input, got shape \(x.shape)") }
  let (n, hw, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
  let y = Tensor(zeros: [n, c])
  for b in 0..<n {
    sumRows(x.value.data + b * hw * c, rows: hw, n: c, into: y.data + b * c)
    for ch in 0..<c { y.data[b * c + ch] /= Float(hw) }
  }
  let inShape = x.shape
  return makeOutput("global_average_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: inShape)
    let w = 1 / Float(hw)
    for b in 0..<n {
      for p in 0..<hw {
        for ch in 0..<c { dx.data[(b * hw + p) * c + ch] = dy.data[b * c + ch] * w }
      }
    }
    return [dx]
  }
}
