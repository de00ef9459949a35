// The README's "define a model in Swift" example, compiled by CI so it never goes stale.
// Run: swift run -c release DefineModelExample [path/to/cifar-10-batches-bin]
import CNN
import Foundation

let model = try Sequential(inputShape: [32, 32, 3], seed: 42) {
  Conv2D(filters: 32, kernelSize: (3, 3), padding: .same, activation: .relu)
  MaxPooling2D(poolSize: (2, 2))
  Conv2D(filters: 64, kernelSize: (3, 3), padding: .same, activation: .relu)
  GlobalAveragePooling2D()
  Dense(units: 10)  // logits
}
print(model.summary())
model.compile(optimizer: Adam(learningRate: 0.001), loss: .sparseCategoricalCrossentropy(fromLogits: true))

let directory = CommandLine.arguments.dropFirst().first ?? "Datasets/cifar-10-batches-bin"
guard FileManager.default.fileExists(atPath: directory) else {
  print("No data at \(directory): run Scripts/get-cifar10.sh to train this model.")
  exit(0)
}
let train = try CIFAR10.load(directory: directory, split: .train, limit: 5000)
let test = try CIFAR10.load(directory: directory, split: .test, limit: 1000)
for result in try model.fit(train, epochs: 2, batchSize: 32, seed: 42, validation: test) {
  print("epoch \(result.epoch): loss \(result.loss), test accuracy \(result.testAccuracy ?? 0)")
}
