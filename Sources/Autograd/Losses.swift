import Foundation
import Tensors

// Sparse categorical cross-entropy, averaged over the batch, as single ops.

/// From logits [B, C]: softmax and cross-entropy fused, stable (log-sum-exp with the max
/// subtracted): the mean over rows of −Σ_j t_j · log softmax(x)_j, where the target t is 1 on
/// the label, or with label smoothing ε, 1 − ε + ε/C on the label and ε/C elsewhere.
/// Gradient: (softmax − t) / B.
public func softmaxCrossEntropy(logits: Variable, labels: [Int], labelSmoothing epsilon: Float = 0) throws
  -> Variable
{
  let (rows, classes) = try checkLabels(logits, labels)
  let shards = try BatchShards.of(logits)
  let probs = Tensor(uninitialized: logits.shape)
  let total = try shards.total(
    shards.ranges.map { shard in
      var sum = 0.0
      for r in shard {
        let x = logits.value.data + r * classes
        var m = -Float.infinity
        for j in 0..<classes { m = Swift.max(m, x[j]) }
        var s: Float = 0
        for j in 0..<classes { s += expf(x[j] - m) }
        let logSum = logf(s) + m
        for j in 0..<classes {
          let t = target(j, label: labels[r], epsilon, classes)
          if t != 0 { sum += Double(t * (logSum - x[j])) }
        }
        softmaxRow(x, probs.data + r * classes, classes)
      }
      return [sum]
    })[0]
  let batch = shards.globalSize
  let loss = Tensor(shape: [], repeating: Float(total / Double(batch)))
  return makeOutput("sparse_categorical_crossentropy", loss, inputs: [logits]) { g in
    let scale = g[0] / Float(batch)
    let d = Tensor(uninitialized: probs.shape)
    for r in 0..<rows {
      for j in 0..<classes {
        let i = r * classes + j
        d.data[i] = (probs.data[i] - target(j, label: labels[r], epsilon, classes)) * scale
      }
    }
    return [d]
  }
}

/// Keras's clipping of probabilities before the logarithm.
public let probabilityEpsilon: Float = 1e-7

/// From probabilities [B, C] (after a Softmax layer, as the seeds' Keras model does): the
/// mean over rows of −Σ_j t_j · log(clip(p_j, eps, 1 − eps)), t as for `softmaxCrossEntropy`;
/// no gradient where the clip binds.
public func crossEntropy(probabilities: Variable, labels: [Int], labelSmoothing epsilon: Float = 0) throws
  -> Variable
{
  let (rows, classes) = try checkLabels(probabilities, labels)
  let shards = try BatchShards.of(probabilities)
  let p = probabilities.value.data
  let total = try shards.total(
    shards.ranges.map { shard in
      var sum = 0.0
      for r in shard {
        for j in 0..<classes {
          let t = target(j, label: labels[r], epsilon, classes)
          let clipped = Swift.min(Swift.max(p[r * classes + j], probabilityEpsilon), 1 - probabilityEpsilon)
          if t != 0 { sum -= Double(t * logf(clipped)) }
        }
      }
      return [sum]
    })[0]
  let batch = shards.globalSize
  let loss = Tensor(shape: [], repeating: Float(total / Double(batch)))
  return makeOutput("sparse_categorical_crossentropy", loss, inputs: [probabilities]) { g in
    let d = Tensor(zeros: probabilities.shape)
    for r in 0..<rows {
      for j in 0..<classes {
        let i = r * classes + j
        let t = target(j, label: labels[r], epsilon, classes)
        if t != 0 && p[i] > probabilityEpsilon && p[i] < 1 - probabilityEpsilon {
          d.data[i] = -g[0] * t / (p[i] * Float(batch))
        }
      }
    }
    return [d]
  }
}

/// The target of one class: 1 − ε + ε/C on the label, ε/C elsewhere (exactly 1 and 0 when
/// ε = 0).
@inline(__always)
private func target(_ j: Int, label: Int, _ epsilon: Float, _ classes: Int) -> Float {
  (j == label ? 1 - epsilon : 0) + epsilon / Float(classes)
}

private func checkLabels(_ x: Variable, _ labels: [Int]) throws -> (Int, Int) {
  guard x.shape.count == 2 else { throw TensorError("the loss expects [batch, classes], got \(x.shape)") }
  let (rows, classes) = (x.shape[0], x.shape[1])
  guard labels.count == rows, rows > 0 else {
    throw TensorError("\(labels.count) labels for a batch of \(rows)")
  }
  for (i, l) in labels.enumerated() where l < 0 || l >= classes {
    throw TensorError("label \(l) at position \(i) is outside 0..<\(classes)")
  }
  return (rows, classes)
}
