import CNN
import Foundation
import XCTest

/// Two classes of 6x6x1 images: class 1 has a bright vertical bar, class 0 a horizontal one,
/// with noise. A small CNN separates them quickly.
func barsDataset(count: Int, seed: UInt64) throws -> ImageDataset {
  var rng = SeededRandom(seed: seed)
  var images: [UInt8] = []
  var labels: [UInt8] = []
  for _ in 0..<count {
    let label = UInt8(rng.nextInt(below: 2))
    let at = rng.nextInt(below: 6)
    for y in 0..<6 {
      for x in 0..<6 {
        let on = label == 1 ? x == at : y == at
        images.append(UInt8(min(255, (on ? 180 : 0) + rng.nextInt(below: 60))))
      }
    }
    labels.append(label)
  }
  return try ImageDataset(
    images: images, labels: labels, height: 6, width: 6, channels: 1, classNames: ["horizontal", "vertical"])
}

func smallModel(seed: UInt64 = 0) throws -> Sequential {
  try Sequential(inputShape: [6, 6, 1], seed: seed) {
    Conv2D(filters: 4, kernelSize: (3, 3), activation: .relu)
    MaxPooling2D()
    Flatten()
    Dense(units: 2, activation: .softmax)
  }
}

func tempPath(_ name: String) -> String {
  NSTemporaryDirectory() + "cnn-test-\(UUID().uuidString)-\(name)"
}

func weights(_ m: Sequential) -> [[Float]] { m.trainableVariables.map { $0.value.scalars } }

/// A callback that runs `body` after every step.
final class AfterEachStep: Callback {
  let body: (TrainingContext) -> Void
  init(_ body: @escaping (TrainingContext) -> Void) { self.body = body }
  func batchEnded(_ context: TrainingContext, _ progress: BatchProgress) throws { body(context) }
}

/// A callback that saves the run to `path` after epoch `epoch` (the model and every
/// callback's state) and stops training there, as an interrupted run would.
final class SaveAndStop: Callback {
  let epoch: Int
  let path: String
  init(after epoch: Int, to path: String) {
    self.epoch = epoch
    self.path = path
  }
  func epochEnded(_ context: TrainingContext, _ result: inout EpochResult) throws {
    guard result.epoch == epoch else { return }
    try context.model.save(to: path, epoch: epoch, callbacks: context.callbacks)
    context.stopTraining = true
  }
}
