import Tensors

/// A view with another shape (Flatten); the gradient is reshaped back.
public func reshape(_ x: Variable, to shape: [Int]) throws -> Variable {
  let y = try x.value.reshaped(to: shape)
  let inShape = x.shape
  return makeOutput("reshape", y, inputs: [x]) { g in [try g.reshaped(to: inShape)] }
}
