/// Losses for integer class labels (Keras `SparseCategoricalCrossentropy`).
public enum Loss: Equatable, Sendable {
  /// Cross-entropy on class scores: softmax fused in, numerically stable.
  case sparseCategoricalCrossentropy(fromLogits: Bool)

  /// The mean loss over the batch, as a scalar variable.
  public func callAsFunction(_ output: Variable, labels: [Int]) throws -> Variable {
    switch self {
    case .sparseCategoricalCrossentropy(let fromLogits):
      return fromLogits
        ? try softmaxCrossEntropy(logits: output, labels: labels)
        : try crossEntropy(probabilities: output, labels: labels)
    }
  }
}
