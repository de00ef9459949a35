import Autograd
import Tensors

/// Losses for integer class labels (Keras `SparseCategoricalCrossentropy`).
public enum Loss: Equatable, Sendable {
  /// Cross-entropy on class scores: softmax fused in, numerically stable. With
  /// `labelSmoothing` ε the target is (1 − ε) on the label and ε/C on every class (Keras's and
  /// PyTorch's definition).
  case sparseCategoricalCrossentropy(fromLogits: Bool, labelSmoothing: Float = 0)

  /// The mean loss over the batch, as a scalar variable.
  public func callAsFunction(_ output: Variable, labels: [Int]) throws -> Variable {
    switch self {
    case .sparseCategoricalCrossentropy(let fromLogits, let smoothing):
      guard smoothing >= 0, smoothing <= 1 else {
        throw LayerError("label smoothing must lie in [0, 1], got \(smoothing)")
      }
      return fromLogits
        ? try softmaxCrossEntropy(logits: output, labels: labels, labelSmoothing: smoothing)
        : try crossEntropy(probabilities: output, labels: labels, labelSmoothing: smoothing)
    }
  }
}
