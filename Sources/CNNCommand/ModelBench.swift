import CNN
import Foundation
import Tensors

/// `cnn bench --model NAME`: training steps of a zoo model on random images at a batch size,
/// as images/s, GFLOP/s of its convolutions and dense layers and a fraction of the probe peak,
/// with the share of the threads' time spent inside GEMMs and the peak resident memory.
func runModelBench(_ name: String, batch: Int, steps: Int, peak: Double) throws {
  let model = try Zoo.model(name)
  model.compile(
    optimizer: SGD(learningRate: 0.01, momentum: 0.85, nesterov: true),
    loss: .sparseCategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2))
  var rng = SeededRandom(seed: 1)
  let x = Tensor(uninitialized: [batch] + model.inputShape)
  for i in 0..<x.count { x[i] = rng.nextFloat() }
  let labels = (0..<batch).map { _ in rng.nextInt(below: 10) }
  let flop = trainingFLOP(model)
  _ = try model.trainStep(x, labels: labels)
  GEMMClock.reset()
  GEMMClock.enabled = true
  var seconds: [Double] = []
  let start = Date()
  for _ in 0..<steps {
    let t = Date()
    _ = try model.trainStep(x, labels: labels)
    seconds.append(Date().timeIntervalSince(t))
  }
  let total = Date().timeIntervalSince(start)
  GEMMClock.enabled = false
  let median = seconds.sorted()[steps / 2]
  let rate = Double(batch) / median
  print(
    "\n\(name) (\(String(format: "%.3f", flop / 1e9)) GFLOP per training image in convolutions and dense layers), batch \(batch), \(steps) steps:"
  )
  print(
    String(
      format: "  training %6.0f images/s (median step %.2f s; %.1f GFLOP/s, %.1f%% of peak)", rate, median,
      rate * flop / 1e9, 100 * rate * flop / 1e9 / peak))
  let share = GEMMClock.seconds / (total * Double(Threads.count))
  print(String(format: "  thread time in GEMMs: %.1f%%, in everything else: %.1f%%", 100 * share, 100 * (1 - share)))
}

/// FLOPs of one training image through the model's convolutions and dense layers: the forward
/// product, the weight gradient where the weights train, and the input gradient where
/// anything before the layer trains.
func trainingFLOP(_ model: Sequential) -> Double {
  var shape = model.inputShape
  var total = 0.0
  var trainsBefore = false
  for (layer, out) in zip(model.layers, model.outputShapes) {
    var forward = 0.0
    var weightsTrain = false
    if let conv = layer as? Conv2D {
      forward = 2 * Double(out[0] * out[1] * out[2] * conv.kernelSize.0 * conv.kernelSize.1 * shape[2])
      weightsTrain = conv.trainableKernel
    } else if let dense = layer as? Dense {
      forward = 2 * Double(shape.reduce(1, *) * dense.units)
      weightsTrain = true
    }
    total += forward * (1 + (weightsTrain ? 1 : 0) + (trainsBefore ? 1 : 0))
    trainsBefore = trainsBefore || layer.parameters.contains { $0.trainable }
    shape = out
  }
  return total
}
