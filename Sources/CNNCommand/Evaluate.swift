import CNN
import Foundation
import Tensors

let evaluateOptions = OptionTable(
  dataOptions,
  [
    Option("checkpoint", "PATH", "the checkpoint (default runs/model.safetensors)")
  ],
  checkpointModelOptions,
  [
    Option("batch-size", "N", "images per forward pass (default 100)"),
    Option("limit", "N", "evaluate on the first N test images only"),
    threadsOption,
  ])

let evaluateHelp = """
  usage: cnn evaluate [options]

  Loads a checkpoint and prints the test loss and accuracy, each class's accuracy and the
  confusion matrix (rows: true class, columns: predicted class).

  options:
  \(evaluateOptions.help)
  """

func runEvaluate(_ raw: [String]) throws -> Int32 {
  let args = try evaluateOptions.parse(raw)
  let batchSize = try args.int("batch-size", default: 100, in: 1...65_536)
  let limit = try args.optionalInt("limit", in: 1...Int.max)
  Threads.count = try args.threads()
  let checkpoint = args.string("checkpoint") ?? "runs/model.safetensors"
  // A bad --model is a usage error before any data loads.
  _ = try args.model()
  // An image folder is read at the size the checkpoint was trained at, unless told otherwise.
  let metadata = (try? SafeTensors.readMetadata(checkpoint)) ?? [:]
  let size = try recordedInputShape(metadata, checkpoint: checkpoint).map { ($0[0], $0[1]) }
  let test = try loadData(args, limit: 1, testLimit: limit, defaultSize: size).test
  if let names = try recordedClassNames(metadata, checkpoint: checkpoint), names != test.classNames {
    throw CommandError(
      .failure,
      "checkpoint \(quoted(checkpoint)) was trained on the classes \(names.joined(separator: ", ")), the data has \(test.classNames.joined(separator: ", "))"
    )
  }
  let (model, saved) = try loadCheckpointModel(
    args, checkpoint: checkpoint, imageShape: test.imageShape, classes: test.classNames.count)
  let start = Date()
  let e = try model.evaluate(test, batchSize: batchSize)
  let seconds = Date().timeIntervalSince(start)
  let cm = ConfusionMatrix(labels: test.labels.map(Int.init), predictions: e.predictions, classNames: test.classNames)
  print(
    "Checkpoint \(quoted(checkpoint)) (epoch \(saved.epoch)), \(test.count) test images, \(Int((Double(test.count) / seconds).rounded())) images/s"
  )
  print("test_loss: \(f4(e.loss)) - test_accuracy: \(f4(e.accuracy))")
  print("\nPer-class accuracy:")
  for (name, acc) in zip(test.classNames, cm.perClassAccuracy) {
    print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + f4(acc))
  }
  print("\nConfusion matrix:")
  print(cm.table(), terminator: "")
  return 0
}

/// The model a checkpoint holds, built as the command line and the checkpoint's records say
/// (`--model`, `--pooling`; the zoo name it records, else the layer configuration it
/// holds), for images of `imageShape` in `classes` classes, compiled and loaded.
func loadCheckpointModel(_ args: Arguments, checkpoint: String, imageShape: [Int], classes: Int) throws -> (
  Sequential, Checkpoint
) {
  // The model is the one the checkpoint's config describes, unless the command line names a
  // zoo model; a checkpoint that cannot be read is reported by the load below.
  let recorded = (try? SafeTensors.readMetadata(checkpoint)) ?? [:]
  let named = ["model", "pooling", "pooling-k", "pooling-p"].contains { args.string($0) != nil }
  let model: Sequential
  if !named, recorded[Sequential.modelConfigKey] != nil {
    model = try Sequential.restored(from: checkpoint)
  } else {
    let (name, pooling) = try zooModel(args, recorded, checkpoint)
    model = try Zoo.model(name, inputShape: imageShape, classes: classes, pooling: pooling)
  }
  model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: !endsInSoftmax(model)))
  return (model, try model.load(from: checkpoint))
}

/// The zoo model and pooling the command line names, what it leaves out filled in from the
/// checkpoint's run record and, for checkpoints written before model configs, its pooling.
private func zooModel(_ args: Arguments, _ recorded: [String: String], _ checkpoint: String) throws -> (
  String, PoolingChoice
) {
  var name = try args.model()
  if args.string("model") == nil, let recipe = try RunRecord(metadata: recorded, checkpoint: checkpoint)?.recipe,
    Zoo.names.contains(recipe)
  {
    name = recipe
  }
  var recordedPooling: PoolingChoice?
  if let text = recorded["pooling"] {
    guard let choice = PoolingChoice(recorded: text) else {
      throw CommandError(
        .failure,
        "checkpoint \(quoted(checkpoint)) records the pooling \(quoted(text)), which this version does not know")
    }
    recordedPooling = choice
  }
  return (name, try args.pooling(recorded: recordedPooling))
}

/// Whether a model's outputs are probabilities (it ends in a softmax), so that its loss is
/// computed from them rather than from logits.
func endsInSoftmax(_ model: Sequential) -> Bool {
  switch model.layers.last {
  case is Softmax: return true
  case let dense as Dense: return dense.activation == .softmax
  case let conv as Conv2D: return conv.activation == .softmax
  case let block as Sequential: return endsInSoftmax(block)
  default: return false
  }
}
