import CNN

let summaryHelp = """
  usage: cnn summary [--model NAME] [--pooling KIND]

  Prints the model's layers, output shapes and parameter counts, as Keras's summary().

  options:
    --model NAME     seed (default: the tutorials' CIFAR-10 CNN), tiny, or fast93 / fast94
                     (the fast CIFAR-10 recipe's network, widths 64/128/128 and 64/256/256)
    --pooling KIND   max (default), average, min, mixed, lp or avgtopk (see cnn train --help),
                     with --pooling-k N or --pooling-p X
  """

func runSummary(_ raw: [String]) throws -> Int32 {
  let args = try Arguments(raw, options: ["model", "pooling", "pooling-k", "pooling-p"], flags: [])
  let model = try Zoo.model(try args.model(), pooling: try args.pooling())
  print(model.summary(), terminator: "")
  return 0
}
