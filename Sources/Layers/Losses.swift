import Autograd
import Tensors

/// A loss: the mean over the batch of a per-example loss, from the model's output and the
/// class labels, as a scalar variable (built from ops with backward passes, such as those on
/// `Variable` or an op of your own through `makeOutput`).
///
///     let meanSquared = Loss(name: "mean_squared_error") { output, labels in
///       let target = Tensor(zeros: output.shape)
///       for (row, label) in labels.enumerated() { target[row * output.shape[1] + label] = 1 }
///       let difference = try output - Variable(target)
///       return mean(try difference * difference)
///     }
public struct Loss: Sendable {
  public let name: String
  private let compute: @Sendable (Variable, [Int]) throws -> Variable
  /// Whether the loss sums its examples by shard (see `BatchShards`), as training on several
  /// processes needs.
  package private(set) var formsShardSums = false

  public init(name: String, _ compute: @escaping @Sendable (_ output: Variable, _ labels: [Int]) throws -> Variable) {
    self.name = name
    self.compute = compute
  }

  /// The mean loss over the batch, as a scalar variable.
  public func callAsFunction(_ output: Variable, labels: [Int]) throws -> Variable {
    let loss = try compute(output, labels)
    guard loss.value.count == 1 else {
      throw LayerError("the loss '\(name)' gave a tensor of shape \(loss.shape), expected a scalar")
    }
    return loss
  }

  /// Keras `SparseCategoricalCrossentropy`: cross-entropy on class scores, from logits with
  /// the softmax fused in (numerically stable), or from probabilities. With
  /// `labelSmoothing` ε the target is (1 − ε) on the label and ε/C on every class (Keras's and
  /// PyTorch's definition).
  public static func sparseCategoricalCrossentropy(fromLogits: Bool, labelSmoothing: Float = 0) -> Loss {
    var loss = Loss(name: "sparse_categorical_crossentropy") { output, labels in
      guard labelSmoothing >= 0, labelSmoothing <= 1 else {
        throw LayerError("label smoothing must lie in [0, 1], got \(labelSmoothing)")
      }
      return fromLogits
        ? try softmaxCrossEntropy(logits: output, labels: labels, labelSmoothing: labelSmoothing)
        : try crossEntropy(probabilities: output, labels: labels, labelSmoothing: labelSmoothing)
    }
    loss.formsShardSums = true
    return loss
  }
}

/// A metric reported per epoch beside loss and accuracy: the mean over a batch of some
/// score of the outputs against the labels; `fit` and `evaluate` weight batches by their size.
public struct Metric: Sendable {
  public let name: String
  private let compute: @Sendable (Tensor, [Int]) -> Double

  public init(name: String, _ batchMean: @escaping @Sendable (_ outputs: Tensor, _ labels: [Int]) -> Double) {
    self.name = name
    compute = batchMean
  }

  public func callAsFunction(_ outputs: Tensor, labels: [Int]) -> Double { compute(outputs, labels) }

  /// The fraction of examples whose label is among the `k` highest outputs.
  public static func topKAccuracy(_ k: Int) -> Metric {
    Metric(name: "top_\(k)_accuracy") { outputs, labels in
      guard outputs.rank == 2, outputs.shape[0] == labels.count, !labels.isEmpty else { return .nan }
      let classes = outputs.shape[1]
      var hits = 0
      for (r, label) in labels.enumerated() where label >= 0 && label < classes {
        let row = outputs.data + r * classes
        let score = row[label]
        var above = 0
        for j in 0..<classes where row[j] > score || (row[j] == score && j < label) { above += 1 }
        if above < k { hits += 1 }
      }
      return Double(hits) / Double(labels.count)
    }
  }
}
