import Foundation
import Tensors

// Sparse categorical cross-entropy, averaged over the batch, as single ops.

/// From logits [B, C]: softmax and cross-entropy fused, stable (log-sum-exp with the max
/// subtracted). Gradient: (softmax - onehot) / B.
public func softmaxCrossEntropy(logits: Variable, labels: [Int]) throws -> Variable {
  let (rows, classes) = try checkLabels(logits, labels)
  let probs = Tensor(uninitialized: logits.shape)
  var total = 0.0
  for r in 0..<rows {
    let x = logits.value.data + r * classes
    var m = -Float.infinity
    for j in 0..<classes { m = Swift.max(m, x[j]) }
    var s: Float = 0
    for j in 0..<classes { s += expf(x[j] - m) }
    total += Double(logf(s) + m - x[labels[r]])
    softmaxRow(x, probs.data + r * classes, classes)
  }
  let loss = Tensor(shape: [], repeating: Float(total / Double(rows)))
  return makeOutput("sparse_categorical_crossentropy", loss, inputs: [logits]) { g in
    let scale = g[0] / Float(rows)
    let d = Tensor(uninitialized: probs.shape)
    for r in 0..<rows {
      for j in 0..<classes {
        let p = probs.data[r * classes + j]
        d.data[r * classes + j] = (p - (j == labels[r] ? 1 : 0)) * scale
      }
    }
    return [d]
  }
}

/// Keras's clipping of probabilities before the logarithm.
public let probabilityEpsilon: Float = 1e-7

/// From probabilities [B, C] (after a Softmax layer, as the seeds' Keras model does):
/// mean of -log(clip(p[label], eps, 1 - eps)).
public func crossEntropy(probabilities: Variable, labels: [Int]) throws -> Variable {
  let (rows, classes) = try checkLabels(probabilities, labels)
  var total = 0.0
  for r in 0..<rows {
    let p = probabilities.value.data[r * classes + labels[r]]
    total -= Double(logf(Swift.min(Swift.max(p, probabilityEpsilon), 1 - probabilityEpsilon)))
  }
  let loss = Tensor(shape: [], repeating: Float(total / Double(rows)))
  return makeOutput("sparse_categorical_crossentropy", loss, inputs: [probabilities]) { g in
    let d = Tensor(zeros: probabilities.shape)
    for r in 0..<rows {
      let i = r * classes + labels[r]
      let p = probabilities.value.data[i]
      if p > probabilityEpsilon && p < 1 - probabilityEpsilon {
        d.data[i] = -g[0] / (p * Float(rows))
      }
    }
    return [d]
  }
}

private func checkLabels(_ x: Variable, _ labels: [Int]) throws -> (Int, Int) {
  guard x.shape.count == 2 else { throw ShapeError("the loss expects [batch, classes], got \(x.shape)") }
  let (rows, classes) = (x.shape[0], x.shape[1])
  guard labels.count == rows, rows > 0 else {
    throw ShapeError("\(labels.count) labels for a batch of \(rows)")
  }
  for (i, l) in labels.enumerated() where l < 0 || l >= classes {
    throw ShapeError("label \(l) at position \(i) is outside 0..<\(classes)")
  }
  return (rows, classes)
}
