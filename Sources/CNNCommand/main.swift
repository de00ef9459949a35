import CNN
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

setvbuf(stdout, nil, _IOLBF, 0)

let usage = """
  cnn: train and evaluate convolutional networks on CIFAR-10, in Swift.

  usage: cnn <command> [options]

  commands:
    train      train a model on CIFAR-10 and save checkpoints
    evaluate   test accuracy, per-class accuracy and confusion matrix of a checkpoint
    summary    print a model's layers, output shapes and parameter counts
    bench      measure kernel and training speed on this machine

  Run 'cnn <command> --help' for a command's options.
  """

func printError(_ message: String) {
  FileHandle.standardError.write(("error: " + message + "\n").data(using: .utf8)!)
}

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first, !["--help", "-h", "help"].contains(command) else {
  print(usage)
  exit(args.isEmpty ? 2 : 0)
}
let rest = Array(args.dropFirst())
let commands: [String: (help: String, run: ([String]) throws -> Int32)] = [
  "train": (trainHelp, runTrain),
  "evaluate": (evaluateHelp, runEvaluate),
  "summary": (summaryHelp, runSummary),
  "bench": (benchHelp, runBench),
]
guard let entry = commands[command] else {
  printError("unknown command '\(command)'; commands are train, evaluate, summary, bench (see cnn --help)")
  exit(2)
}
if rest.contains("--help") || rest.contains("-h") {
  print(entry.help)
  exit(0)
}
do {
  exit(try entry.run(rest))
} catch let e as UsageError {
  printError("\(e.message) (see cnn \(command) --help)")
  exit(2)
} catch TrainingError.interrupted(let epoch) {
  printError("interrupted during epoch \(epoch); the last saved checkpoint is intact")
  exit(130)
} catch {
  printError("\(error)")
  exit(1)
}
