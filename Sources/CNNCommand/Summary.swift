import CNN

let summaryHelp = """
  usage: cnn summary [--model NAME]

  Prints the model's layers, output shapes and parameter counts, as Keras's summary().

  options:
    --model NAME   seed (default: the tutorials' CIFAR-10 CNN) or tiny
  """

func runSummary(_ raw: [String]) throws -> Int32 {
  let args = try Arguments(raw, options: ["model"], flags: [])
  let model = try Zoo.model(try args.model())
  print(model.summary(), terminator: "")
  return 0
}
