import Foundation

/// Saves the model after every epoch to `path` (Keras's `ModelCheckpoint`): its weights, its
/// optimizer's state and every callback's state, so that `load(from:restoreOptimizer:callbacks:)`
/// and `fit(initialEpoch:)` continue the run exactly. The file is replaced atomically: a save
/// that fails leaves the previous one whole.
public final class ModelCheckpoint: Callback {
  public let path: String
  private let metadata: (EpochResult) throws -> [String: String]

  /// `metadata` gives the strings saved with each epoch (beside the format, epoch and model).
  public init(path: String, metadata: @escaping (EpochResult) throws -> [String: String] = { _ in [:] }) {
    self.path = path
    self.metadata = metadata
  }

  public func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws {
    do {
      try context.model.save(
        to: path, epoch: result.epoch, metadata: try metadata(result), callbacks: context.callbacks)
    } catch {
      let kept =
        FileManager.default.fileExists(atPath: path)
        ? "the checkpoint file as it was before this epoch is kept" : "no checkpoint was saved"
      throw ModelError("\(error); \(kept)")
    }
  }
}
