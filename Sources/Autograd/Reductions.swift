import Tensors

/// sum(x * weights) as a scalar, weights constant. A probe loss for gradient checks and
/// the building block of weighted objectives.
public func weightedSum(_ x: Variable, weights: Tensor) throws -> Variable {
  guard x.shape == weights.shape else {
    throw TensorError("weightedSum: weights of shape \(weights.shape) for a tensor of shape \(x.shape)")
  }
  var s = 0.0
  for i in 0..<x.value.count { s += Double(x.value.data[i]) * Double(weights.data[i]) }
  let inShape = x.shape
  return makeOutput("weighted_sum", Tensor(shape: [], repeating: Float(s)), inputs: [x]) { g in
    let d = Tensor(uninitialized: inShape)
    for i in 0..<d.count { d.data[i] = weights.data[i] * g[0] }
    return [d]
  }
}
