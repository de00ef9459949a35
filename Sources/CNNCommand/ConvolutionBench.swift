import CNN
import Foundation

/// The fast recipe's 3×3 convolution shapes (`in → out` channels at `size`×`size`, `same`), the
/// seed model's second one (32 → 64, at 15×15 with `same` here) and the shapes of the issue
/// that asked for Winograd.
let recipeConvolutionShapes: [(c: Int, f: Int, size: Int)] = [
  (24, 64, 31), (32, 64, 15), (64, 64, 16), (64, 64, 15), (64, 256, 15), (256, 256, 8), (256, 256, 7), (256, 256, 4),
  (256, 256, 3),
]

/// `cnn bench --convolutions`: each recipe shape at a batch size by the direct path and by
/// Winograd F(2×2) and F(4×4): effective GFLOP/s (the direct convolution's FLOPs over the
/// time) of the forward pass, the weight gradient and the input gradient, and the Winograd
/// outputs' error against the direct path's.
func runConvolutionBench(batch: Int, steps: Int, peak: Double) throws {
  print(
    """

    3×3 convolutions, same padding, batch \(batch), best of \(steps): effective GFLOP/s (a direct
    convolution's FLOPs over the time) and % of the probe peak; each Winograd output's error
    against the direct one: the largest |difference| over the largest |output|, then the mean
    |difference| over the mean |output|
    """)
  let algorithms: [ConvolutionAlgorithm] = [.direct, .winograd(.f2), .winograd(.f4)]
  for s in recipeConvolutionShapes {
    let x = uniformTensor([batch, s.size, s.size, s.c], scale: 1, seed: 1)
    let kernel = uniformTensor([3, 3, s.c, s.f], scale: 1 / Float(9 * s.c).squareRoot(), seed: 2)
    let flop = 2 * Double(batch * s.size * s.size * 9 * s.c * s.f)
    var reference: Tensor?
    for algorithm in algorithms {
      let t = try timeConvolution(x, kernel, algorithm, steps: steps)
      let y = try conv2d(Variable(x), kernel: Variable(kernel), bias: nil, padding: .same, algorithm: algorithm).value
      let error = reference.map { convolutionError(y, $0) }
      if reference == nil { reference = y }
      func rate(_ seconds: Double) -> String {
        String(format: "%6.1f (%3.0f%%)", flop / seconds / 1e9, 100 * flop / seconds / 1e9 / peak)
      }
      let name: String
      switch algorithm {
      case .direct: name = "direct"
      case .winograd(let tile): name = tile == .f2 ? "F(2x2)" : "F(4x4)"
      }
      let shape = "\(s.c)→\(s.f) \(s.size)×\(s.size)".padding(toLength: 15, withPad: " ", startingAt: 0)
      print(
        "  \(shape) \(name.padding(toLength: 7, withPad: " ", startingAt: 0)) forward \(rate(t.forward))  "
          + "weight grad \(rate(t.weightGradient))  input grad \(rate(t.inputGradient))"
          + (error.map { String(format: "  error %.1e, %.1e", $0.max, $0.mean) } ?? ""))
    }
  }
}

/// Seconds of the forward pass, of the backward pass to the kernel alone, and of the input
/// gradient (the backward pass to input and kernel less the one to the kernel alone), each the
/// best of `steps`.
private func timeConvolution(_ x: Tensor, _ kernel: Tensor, _ algorithm: ConvolutionAlgorithm, steps: Int) throws
  -> (forward: Double, weightGradient: Double, inputGradient: Double)
{
  func best(_ body: () throws -> Double) rethrows -> Double {
    var t = Double.infinity
    for _ in 0..<steps { t = min(t, try body()) }
    return t
  }
  let forward = try best {
    let start = Date()
    _ = try conv2d(Variable(x), kernel: Variable(kernel), bias: nil, padding: .same, algorithm: algorithm)
    return Date().timeIntervalSince(start)
  }
  func backward(inputGradient: Bool) throws -> Double {
    try best {
      let tape = Tape()
      let kv = Variable(kernel, requiresGrad: true)
      let y = try conv2d(
        tape.input(x, requiresGrad: inputGradient), kernel: kv, bias: nil, padding: .same, algorithm: algorithm)
      let loss = sum(y)
      let start = Date()
      try tape.backward(loss)
      return Date().timeIntervalSince(start)
    }
  }
  let weights = try backward(inputGradient: false)
  let both = try backward(inputGradient: true)
  return (forward, weights, max(both - weights, 1e-9))
}

/// Uniform values in [-scale, scale) from `seed`.
private func uniformTensor(_ shape: [Int], scale: Float, seed: UInt64) -> Tensor {
  var rng = SeededRandom(seed: seed)
  let t = Tensor(uninitialized: shape)
  for i in 0..<t.count { t[i] = rng.uniform(-scale, scale) }
  return t
}

/// max |y − ref| / max |ref| and mean |y − ref| / mean |ref|.
private func convolutionError(_ y: Tensor, _ ref: Tensor) -> (max: Double, mean: Double) {
  var (maxDiff, maxRef, sumDiff, sumRef) = (0.0, 0.0, 0.0, 0.0)
  for i in 0..<y.count {
    let (d, r) = (Double(abs(y[i] - ref[i])), Double(abs(ref[i])))
    maxDiff = max(maxDiff, d)
    maxRef = max(maxRef, r)
    sumDiff += d
    sumRef += r
  }
  return (maxDiff / max(maxRef, 1e-30), sumDiff / max(sumRef, 1e-30))
}
