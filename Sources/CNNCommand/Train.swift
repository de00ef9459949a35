import CNN
import Foundation
import Tensors

let trainOptions = OptionTable(
  dataOptions,
  [
    Option(
      "model", "NAME", "seed (default: the tutorials' CIFAR-10 CNN), tiny, or fast93 /",
      "fast94, the fast recipe's network trained by its recipe: SGD with",
      "Nesterov momentum, a triangular schedule, label smoothing 0.2,",
      "translation and alternating flips, whitening from the data, and",
      "test-time augmentation at the end (defaults: 11 / 9.9 epochs,", "batch 1024, learning rate 1.5)")
  ],
  poolingOptions,
  [
    Option(
      "epochs", "N", "epochs to train (default 10); a fraction such as 9.9 stops the",
      "last epoch early, the schedule spanning the steps trained"),
    Option("batch-size", "N", "images per step (default 32)"),
    Option("learning-rate", "X", "the optimizer's (base) learning rate (default 0.001 for Adam)"),
    Option("seed", "N", "seeds weights and data order: same seed, same run (default 0)"),
    Option(
      "threads", "N", "threads for the kernels, 1 to the number of cores (default: all,",
      "shared among the processes of an MPI job on this machine)"),
    Option("checkpoint", "PATH", "checkpoint file, safetensors (default runs/model.safetensors)"),
    Option("metrics", "PATH", "JSON-lines log, one object per epoch (default: checkpoint path", "with .metrics.jsonl)"),
    Option("limit", "N", "train on the first N training images only"),
    Option("test-limit", "N", "evaluate on the first N test images only"),
    Option(
      "resume", nil, "continue from the checkpoint's last finished epoch: weights,",
      "optimizer state and data order, exactly"),
    Option("help", nil, "this text"),
  ])

let trainHelp = """
  usage: cnn train [options]

  Trains a model on CIFAR-10 (binary layout) or a folder of your own images, printing a
  progress bar, test accuracy after every epoch, and saving a checkpoint at the end of
  every epoch.

  options:
  \(trainOptions.help)

  Several processes: started by an MPI launcher (mpirun -np 4 cnn train ..., mpiexec with
  MPICH) it trains one model on 1, 2, 4, 8 or 16 processes, with the same results as on one;
  process 0 prints and writes the files. CNN_MPI_LIBRARY names the MPI library when the
  launcher's is not found by its usual name.

  Exit status: 0 done, 1 error (bad data, non-finite loss, ...), 2 bad command line,
  130 interrupted (the checkpoint of the last finished epoch is kept).
  """

/// What `cnn train` was asked to do, validated.
struct TrainOptions {
  /// Epochs, possibly fractional; `wholeEpochs` of them are started.
  let epochs: Double
  var wholeEpochs: Int { Int(epochs.rounded(.up)) }
  let batchSize: Int
  let learningRate: Float
  let seed: UInt64
  let limit: Int?
  let testLimit: Int?
  let modelName: String
  let pooling: PoolingChoice
  /// The model's recipe with the command line's epochs, batch size and learning rate.
  let recipe: Recipe
  let checkpoint: String
  let metricsPath: String
  let resume: Bool
  let dataDirectory: String
  /// The command line, for `loadData`.
  let arguments: Arguments

  init(_ raw: [String]) throws {
    let args = try trainOptions.parse(raw)
    modelName = try args.model()
    pooling = try args.pooling()
    if modelName.hasPrefix("fast") && pooling != .max {
      throw CommandError(.usage, "--pooling applies to the seed and tiny models, not to \(modelName)")
    }
    var recipe = try Recipe.zoo(modelName, pooling: pooling)
    epochs = try args.double("epochs", default: recipe.epochs, above: 0, atMost: 10_000)
    batchSize = try args.int("batch-size", default: recipe.batchSize, in: 1...65_536)
    learningRate = try args.float("learning-rate", default: recipe.learningRate, above: 0, atMost: 10)
    (recipe.epochs, recipe.batchSize, recipe.learningRate) = (epochs, batchSize, learningRate)
    self.recipe = recipe
    seed = try args.seed()
    Threads.count = try args.threads()
    limit = try args.optionalInt("limit", in: 1...Int.max)
    testLimit = try args.optionalInt("test-limit", in: 1...Int.max)
    checkpoint = args.string("checkpoint") ?? "runs/model.safetensors"
    metricsPath = args.string("metrics") ?? checkpointStem(checkpoint) + ".metrics.jsonl"
    resume = args.flag("resume")
    dataDirectory = CNNCommand.dataDirectory(args)
    arguments = args
  }
}

func runTrain(_ raw: [String]) throws -> Int32 {
  let o = try TrainOptions(raw)
  let job = try Job.start(threadsGiven: raw.contains("--threads"))
  return try job.run { try train(o, job) }
}

private func train(_ o: TrainOptions, _ job: Job) throws -> Int32 {
  try job.agree(on: [
    ("model", "\(o.modelName) \(o.pooling)"), ("seed", "\(o.seed)"),
    (
      "options",
      "\(o.epochs) \(o.batchSize) \(o.learningRate) \(o.limit ?? 0) \(o.testLimit ?? 0) \(o.resume) \(o.arguments.string("test-data") ?? "") \(o.arguments.string("hold-out") ?? "")"
    ),
  ])
  // Where the results go is checked before the data loads and an epoch is spent.
  do {
    try checkWritable(o.checkpoint, what: "the checkpoint", regularFile: true)
    try checkWritable(o.metricsPath, what: "the metrics log")
  } catch let e as TensorError {
    throw CommandError(.usage, e.message)
  }
  if job.leads { removeStaleTemporaries(of: o.checkpoint) }
  let (train, test) = try loadData(o.arguments, limit: o.limit, testLimit: o.testLimit)
  try job.agree(on: [("training data", train.fingerprint), ("test data", test.fingerprint)])
  let recipe = o.recipe
  let model = try recipe.makeModel(inputShape: train.imageShape, classes: train.classNames.count, seed: o.seed)
  try job.share(batchSize: o.batchSize, lastBatch: recipe.dropRemainder ? 0 : train.count % o.batchSize)
  let record = RunRecord(
    recipe: o.modelName, seed: o.seed, batchSize: o.batchSize, learningRate: o.learningRate, epochs: o.epochs,
    trainImages: train.count, trainFingerprint: train.fingerprint, classNames: train.classNames,
    inputShape: train.imageShape)
  let callbacks = recipe.callbacks(for: model)
  var initialEpoch = 0
  if o.resume {
    initialEpoch = try resume(model, o, record: record, callbacks: callbacks, repairsLog: job.leads)
    if initialEpoch >= o.wholeEpochs {
      print("Nothing to do: the checkpoint already finished \(initialEpoch) of \(o.wholeEpochs) epochs")
      return 0
    }
  }
  try job.agree(on: [("starting weights", "\(initialEpoch) \(weightBits(model))")])
  print(
    "Training \(o.modelName)\(o.pooling == .max ? "" : " with \(o.pooling) pooling") on \(train.count) images, testing on \(test.count); batch \(o.batchSize), \(recipe.summary), seed \(o.seed), \(job.size > 1 ? "\(job.size) processes × " : "")\(Threads.count) threads"
  )
  // Process 0 alone writes: the checkpoint first (it also holds the epoch's metrics line),
  // then the line appended to the log.
  let saving: [any Callback] =
    job.leads
    ? [
      ModelCheckpoint(path: o.checkpoint) { try record.metadata().merging(["metrics": try metricsLine($0)]) { $1 } },
      MetricsLogWriter(path: o.metricsPath, continuing: o.resume),
    ] : []
  let results = try recipe.train(
    model, on: train, validation: test, seed: o.seed, initialEpoch: initialEpoch, callbacks: callbacks,
    extra: [ProgressBar(write: writeOut), InterruptFlag()] + saving, group: job.group)
  let exchange = results.compactMap(\.communicationSeconds).reduce(0, +)
  if job.size > 1, !results.isEmpty {
    let training = results.map(\.seconds).reduce(0, +)
    print(
      "Exchanges between the \(job.size) processes took \(String(format: "%.1f", exchange)) s of the \(String(format: "%.1f", training)) s of training (\(String(format: "%.1f", 100 * exchange / training))%)"
    )
  }
  if let last = results.last, let acc = last.testAccuracy {
    print(
      "Test accuracy after epoch \(last.epoch): \(f4(acc)); checkpoint \(quoted(o.checkpoint)), metrics \(quoted(o.metricsPath))"
    )
  }
  if recipe.testTimeAugmentation != .none && !results.isEmpty {
    let e = try recipe.finalEvaluation(of: model, on: test, group: job.group)
    print("Test accuracy with test-time augmentation (\(recipe.testTimeAugmentation)): \(f4(e.accuracy))")
  }
  return 0
}

/// Loads the checkpoint to resume from and checks that this run continues it exactly: same
/// model, seed, batch size and training data. Returns the last finished epoch.
func resume(
  _ model: Sequential, _ o: TrainOptions, record: RunRecord, callbacks: [any Callback], repairsLog: Bool
) throws -> Int {
  if case .unreachable(let why, _) = pathKind(o.checkpoint) {
    throw CommandError(.usage, "--resume: no checkpoint to resume from: \(quoted(o.checkpoint)) \(why)")
  }
  // The run's settings are compared first: a checkpoint of another model would not load.
  let metadata = try SafeTensors.readMetadata(o.checkpoint)
  guard let recorded = try RunRecord(metadata: metadata, checkpoint: o.checkpoint) else {
    throw CommandError(.usage, "--resume: \(quoted(o.checkpoint)) records no run of cnn train to continue")
  }
  // A schedule spans the run's epochs: resuming it needs the same count (checked when recorded).
  let spans = o.recipe.schedule != .constant && recorded.epochs != nil
  let settings: [(String, String, String)] =
    [
      ("model", recorded.recipe, record.recipe), ("seed", "\(recorded.seed)", "\(record.seed)"),
      ("batch size", "\(recorded.batchSize)", "\(record.batchSize)"),
      ("training images", "\(recorded.trainImages)", "\(record.trainImages)"),
    ] + (spans ? [("epochs", "\(recorded.epochs!)", "\(record.epochs!)")] : [])
  for (name, was, now) in settings where was != now {
    throw CommandError(
      .usage,
      "--resume: the checkpoint was trained with \(name) \(was), this run has \(now); an exact resume needs the same")
  }
  switch recorded.trainFingerprint {
  case nil:
    printToStandardError(
      "warning: the checkpoint does not record its training data; cannot check that --data is the same")
  case let f? where f != record.trainFingerprint:
    throw CommandError(
      .usage,
      "--resume: the checkpoint was trained on other images (data fingerprint \(f), this data \(record.trainFingerprint ?? "")); an exact resume needs the same data"
    )
  default: break
  }
  try checkSameModel(model, pooling: o.pooling, metadata, o.checkpoint)
  let saved = try model.load(from: o.checkpoint, restoreOptimizer: true, callbacks: callbacks)
  if repairsLog { try repairLog(o.metricsPath, upTo: saved.epoch, savedLine: saved.metadata["metrics"]) }
  print("Resuming from \(quoted(o.checkpoint)) after epoch \(saved.epoch)")
  return saved.epoch
}

/// A resumed run's model must be the one the checkpoint's config describes, layer by layer;
/// a checkpoint from before model configs records its pooling (max when it does not say).
private func checkSameModel(
  _ model: Sequential, pooling: PoolingChoice, _ metadata: [String: String], _ checkpoint: String
) throws {
  guard let json = metadata[Sequential.modelConfigKey] else {
    let recorded = metadata["pooling"] ?? "max"
    guard recorded == "\(pooling)" else {
      throw CommandError(
        .usage,
        "--resume: the checkpoint was trained with pooling \(recorded), this run has \(pooling); an exact resume needs the same"
      )
    }
    return
  }
  let saved = try Sequential(config: try JSONDecoder().decode(LayerConfig.self, from: Data(json.utf8)))
  let (was, now) = (try saved.config()?.layers ?? [], try model.config()?.layers ?? [])
  guard was != now else { return }
  let i = Array(zip(was, now)).firstIndex { $0 != $1 } ?? min(was.count, now.count)
  let describe = { (layers: [LayerConfig]) in i < layers.count ? "\(layers[i].type) \(layers[i].options)" : "nothing" }
  throw CommandError(
    .usage,
    "--resume: the checkpoint's model differs from this run's at layer \(i): it has \(describe(was)), this run \(describe(now)); an exact resume needs the same model"
  )
}

func checkpointStem(_ path: String) -> String {
  path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path
}

func metricsLine(_ r: EpochResult) throws -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  encoder.keyEncodingStrategy = .convertToSnakeCase
  return String(decoding: try encoder.encode(r), as: UTF8.self)
}
