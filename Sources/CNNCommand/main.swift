import CNN
// C's `stdout` is a global variable Swift 6 cannot check; it is written from one thread only.
@preconcurrency import Foundation
import Tensors

#if canImport(Glibc)
  @preconcurrency import Glibc
#endif

guardStandardDescriptors()
setvbuf(stdout, nil, _IOLBF, 0)
// A closed pipe on standard output is reported by `finish`, not by a silent death mid-save.
signal(SIGPIPE, SIG_IGN)

let usage = """
  cnn: train and evaluate convolutional networks on CIFAR-10, in Swift.

  usage: cnn <command> [options]

  commands:
    train      train a model on CIFAR-10 and save checkpoints
    evaluate   test accuracy, per-class accuracy and confusion matrix of a checkpoint
    predict    classify image files (JPEG, PNG, PGM, PPM) with a checkpoint
    export     write a checkpoint's model as an ONNX file
    report     write an HTML report of a run: curves, confusion matrix, pictures
    summary    print a model's layers, output shapes and parameter counts
    bench      measure kernel and training speed on this machine
    pool       apply a pooling to a matrix and print both as tables

  Run 'cnn <command> --help' for a command's options.
  """

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else {
  printError(
    "no command given; commands are train, evaluate, predict, export, report, summary, bench, pool (see cnn --help)")
  finish(2)
}
if ["--help", "-h", "help"].contains(command) {
  print(usage)
  finish(0)
}
let rest = Array(args.dropFirst())
let commands: [String: (help: String, run: ([String]) throws -> Int32)] = [
  "train": (trainHelp, runTrain),
  "evaluate": (evaluateHelp, runEvaluate),
  "predict": (predictHelp, runPredict),
  "export": (exportHelp, runExport),
  "report": (reportHelp, runReport),
  "summary": (summaryHelp, runSummary),
  "bench": (benchHelp, runBench),
  "pool": (poolHelp, runPool),
]
guard let entry = commands[command] else {
  printError(
    "unknown command \(quoted(command)); commands are train, evaluate, predict, export, report, summary, bench, pool (see cnn --help)"
  )
  finish(2)
}
if rest.contains("--help") || rest.contains("-h") {
  print(entry.help)
  finish(0)
}
do {
  finish(try entry.run(rest))
} catch let e as CommandError where e.kind == .usage {
  printError("\(e.message) (see cnn \(command) --help)")
  finish(2)
} catch TrainingError.interrupted(let epoch) {
  printError("interrupted during epoch \(epoch); the last saved checkpoint is intact")
  finish(130)
} catch {
  printError("\(error)")
  finish(1)
}
