import Autograd
import Layers

// Pairs of consecutive layers that `Sequential` runs as one op, with the same results as
// calling them in turn: a fused op saves a pass over memory between them.

/// A fusion: the pair's output for input `x`, or nil when these two layers do not fuse.
typealias Fusion = @Sendable (_ first: any Layer, _ second: any Layer, _ x: Variable) throws -> Variable?

/// The fusions `Sequential` tries, in order.
let fusions: [Fusion] = [
  // Conv2D then a 2×2, stride-2, unpadded MaxPooling2D: the pooling reads the convolution's
  // output tile by tile as it is produced.
  { first, second, x in
    guard let conv = first as? Conv2D, let pool = second as? MaxPooling2D else { return nil }
    return try conv.fused(x, then: pool)
  },
  // BatchNormalization then GELU: one pass writes the output, and x̂ is not kept.
  { first, second, x in
    guard let norm = first as? BatchNormalization, let gelu = second as? GELU else { return nil }
    return try norm.fused(x, then: gelu)
  },
]

/// The first fusion that takes this pair, run on `x`; nil when none does.
package func runFused(_ first: any Layer, _ second: any Layer, _ x: Variable) throws -> Variable? {
  for fusion in fusions {
    if let y = try fusion(first, second, x) { return y }
  }
  return nil
}
