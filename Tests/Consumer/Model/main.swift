// A program in a package of its own that depends on CNN: a model defined here (with a
// residual block and a nested Sequential) trains, reports its test accuracy, and saves a
// checkpoint that `cnn evaluate --checkpoint` rebuilds without being told the model.
// Usage: Consumer DATA_DIR CHECKPOINT (DATA_DIR without CIFAR-10 files gets synthetic ones).
import CNN
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
  print("usage: Consumer DATA_DIR CHECKPOINT")
  exit(2)
}
let (directory, checkpoint) = (arguments[1], arguments[2])
if !FileManager.default.fileExists(atPath: directory + "/test_batch.bin") {
  try writeSyntheticCIFAR(directory)
}
let train = try CIFAR10.load(directory: directory, split: .train, limit: 5000)
let test = try CIFAR10.load(directory: directory, split: .test, limit: 2000)
let model = try Sequential(inputShape: [32, 32, 3], seed: 7, name: "consumer") {
  Conv2D(filters: 16, kernelSize: (3, 3), activation: .relu)
  MaxPooling2D()
  try Residual {
    Conv2D(filters: 16, kernelSize: (3, 3), padding: .same, activation: .relu)
    BatchNormalization()
  }
  try Sequential {
    Conv2D(filters: 32, kernelSize: (3, 3), activation: .relu)
    GlobalAveragePooling2D()
  }
  Dense(units: 10, activation: .softmax)
}
model.compile(optimizer: Adam(learningRate: 0.003), loss: .sparseCategoricalCrossentropy(fromLogits: false))
try model.fit(train, epochs: 2, batchSize: 64, seed: 1, verbose: true)
let result = try model.evaluate(test)
print("consumer test_accuracy: \(String(format: "%.4f", result.accuracy))")
try model.save(to: checkpoint)

/// CIFAR-10 binary files of random images whose red level and stripes follow the label.
func writeSyntheticCIFAR(_ directory: String) throws {
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  var rng = SeededRandom(seed: 1)
  func records(_ n: Int) -> Data {
    var bytes: [UInt8] = []
    for _ in 0..<n {
      let label = rng.nextInt(below: 10)
      bytes.append(UInt8(label))
      for plane in 0..<3 {
        for i in 0..<1024 {
          let stripe = plane == 1 && (i / 32) % (label + 2) == 0 ? 80 : 0
          let base = plane == 0 ? label * 20 : 60
          bytes.append(UInt8(min(255, base + stripe + rng.nextInt(below: 60))))
        }
      }
    }
    return Data(bytes)
  }
  for file in CIFAR10.trainFiles { try records(1000).write(to: URL(fileURLWithPath: directory + "/" + file)) }
  try records(2000).write(to: URL(fileURLWithPath: directory + "/test_batch.bin"))
}
