// The README's "the fast recipe from Swift" example, compiled and run by CI on a subset.
// Run: swift run -c release RecipeExample [path/to/cifar-10-batches-bin [images]]
import CNN
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let directory = arguments.first ?? "Datasets/cifar-10-batches-bin"
let limit = arguments.dropFirst().first.flatMap { Int($0) }  // all 50,000 when not given
guard FileManager.default.fileExists(atPath: directory) else {
  print("No data at \(directory): run Scripts/get-cifar10.sh to train this model.")
  exit(0)
}
let train = try CIFAR10.load(directory: directory, split: .train, limit: limit)
let test = try CIFAR10.load(directory: directory, split: .test, limit: limit.map { $0 / 5 })

var recipe = Recipe.fast94
recipe.epochs = 8  // one part changed: 8 epochs instead of 9.9
let model = try recipe.makeModel(inputShape: train.imageShape, classes: 10, seed: 0)
try recipe.train(model, on: train, validation: test, verbose: true)
print("test accuracy with six views:", try recipe.finalEvaluation(of: model, on: test).accuracy)
