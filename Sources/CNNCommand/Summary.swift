import CNN

let summaryOptions = OptionTable(
  [
    Option(
      "model", "NAME", "seed (default: the tutorials' CIFAR-10 CNN), tiny, or fast93 / fast94",
      "(the fast CIFAR-10 recipe's network, widths 64/128/128 and 64/256/256)")
  ],
  poolingOptions)

let summaryHelp = """
  usage: cnn summary [--model NAME] [--pooling KIND]

  Prints the model's layers, output shapes and parameter counts, as Keras's summary().

  options:
  \(summaryOptions.help)
  """

func runSummary(_ raw: [String]) throws -> Int32 {
  let args = try summaryOptions.parse(raw)
  let model = try Zoo.model(try args.model(), pooling: try args.pooling())
  print(model.summary(), terminator: "")
  return 0
}
