import CNN
import Foundation

let trainHelp = """
  usage: cnn train [options]

  Trains a model on CIFAR-10 (binary layout), printing a progress bar, test accuracy after
  every epoch, and saving a checkpoint at the end of every epoch.

  options:
    --data DIR             cifar-10-batches-bin directory (default: $CIFAR10_DIR, else
                           Datasets/cifar-10-batches-bin; Scripts/get-cifar10.sh fetches it)
    --model NAME           seed (default: the tutorials' CIFAR-10 CNN) or tiny
    --epochs N             epochs to train (default 10)
    --batch-size N         images per step (default 32)
    --learning-rate X      Adam's learning rate (default 0.001)
    --seed N               seeds weights and data order: same seed, same run (default 0)
    --threads N            threads for the kernels, 1 to the number of cores (default: all)
    --checkpoint PATH      checkpoint file, safetensors (default runs/model.safetensors)
    --metrics PATH         JSON-lines log, one object per epoch (default: checkpoint path
                           with .metrics.jsonl)
    --limit N              train on the first N training images only
    --test-limit N         evaluate on the first N test images only
    --resume               continue from the checkpoint's last finished epoch: weights,
                           optimizer state and data order, exactly
    --help                 this text

  Exit status: 0 done, 1 error (bad data, non-finite loss, ...), 2 bad command line,
  130 interrupted (the checkpoint of the last finished epoch is kept).
  """

func runTrain(_ raw: [String]) throws -> Int32 {
  let args = try Arguments(
    raw,
    options: [
      "data", "model", "epochs", "batch-size", "learning-rate", "seed", "threads", "checkpoint", "metrics", "limit",
      "test-limit",
    ],
    flags: ["resume"])
  let epochs = try args.int("epochs", default: 10, in: 1...10_000)
  let batchSize = try args.int("batch-size", default: 32, in: 1...65_536)
  let learningRate = try args.float("learning-rate", default: 0.001, above: 0, atMost: 10)
  let seed = try args.seed()
  Threads.count = try args.threads()
  let limit = try args.optionalInt("limit", in: 1...Int.max)
  let testLimit = try args.optionalInt("test-limit", in: 1...Int.max)
  let modelName = args.string("model") ?? "seed"
  let checkpoint = args.string("checkpoint") ?? "runs/model.safetensors"
  let metricsPath = args.string("metrics") ?? checkpointStem(checkpoint) + ".metrics.jsonl"
  let resume = args.flag("resume")

  let dir = dataDirectory(args)
  let train = try CIFAR10.load(directory: dir, split: .train, limit: limit)
  let test = try CIFAR10.load(directory: dir, split: .test, limit: testLimit)
  let model = try Zoo.model(modelName, inputShape: train.imageShape, classes: train.classNames.count, seed: seed)
  model.compile(optimizer: Adam(learningRate: learningRate), loss: .sparseCategoricalCrossentropy(fromLogits: false))
  let runInfo: [String: String] = [
    "model": modelName, "seed": String(seed), "batch_size": String(batchSize),
    "learning_rate": String(learningRate), "train_images": String(train.count),
  ]

  var initialEpoch = 0
  if resume {
    guard FileManager.default.fileExists(atPath: checkpoint) else {
      throw UsageError("--resume: no checkpoint at \(checkpoint) to resume from")
    }
    let saved = try model.load(from: checkpoint, restoreOptimizer: true)
    for (key, value) in runInfo where key != "learning_rate" && saved.metadata[key] != value {
      throw UsageError(
        "--resume: the checkpoint was trained with \(key) \(saved.metadata[key] ?? "unknown"), this run has \(value); an exact resume needs the same"
      )
    }
    initialEpoch = saved.epoch
    print("Resuming from \(checkpoint) after epoch \(initialEpoch)")
    if initialEpoch >= epochs {
      print("Nothing to do: the checkpoint already finished \(initialEpoch) of \(epochs) epochs")
      return 0
    }
  }
  print(
    "Training \(modelName) on \(train.count) images, testing on \(test.count); batch \(batchSize), Adam lr \(learningRate), seed \(seed), \(Threads.count) threads"
  )

  let folder = (checkpoint as NSString).deletingLastPathComponent
  if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
  if !resume && !FileManager.default.createFile(atPath: metricsPath, contents: nil) {
    throw UsageError("cannot write the metrics log \(metricsPath)")
  }

  let progress = ProgressPrinter()
  progress.onEpochEnd = { result in
    try model.save(to: checkpoint, epoch: result.epoch, metadata: runInfo)
    try appendMetrics(result, to: metricsPath)
  }
  let interrupt = InterruptFlag()
  interrupt.install()
  let results = try model.fit(
    train, epochs: epochs, batchSize: batchSize, seed: seed, initialEpoch: initialEpoch, validation: test,
    observer: progress, shouldStop: { interrupt.isRaised })
  if let last = results.last, let acc = last.testAccuracy {
    print("Test accuracy after epoch \(last.epoch): \(f4(acc)); checkpoint \(checkpoint), metrics \(metricsPath)")
  }
  return 0
}

func checkpointStem(_ path: String) -> String {
  path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path
}

func appendMetrics(_ r: EpochResult, to path: String) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  encoder.keyEncodingStrategy = .convertToSnakeCase
  var line = try encoder.encode(r)
  line.append(0x0A)
  guard let handle = FileHandle(forWritingAtPath: path) else {
    throw UsageError("cannot write the metrics log \(path)")
  }
  defer { try? handle.close() }
  try handle.seekToEnd()
  try handle.write(contentsOf: line)
}
