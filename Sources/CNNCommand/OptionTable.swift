/// One command-line option: its name, the placeholder of its value (nil for a flag) and the
/// lines of its help.
struct Option: Sendable {
  let name: String
  let value: String?
  let help: [String]

  init(_ name: String, _ value: String?, _ help: String...) {
    self.name = name
    self.value = value
    self.help = help
  }
}

/// A command's options in the order its help lists them. The help's option list, the names
/// the parser accepts and which of them take a value all come from here: an option is
/// spelled once.
struct OptionTable: Sendable {
  let options: [Option]

  init(_ groups: [Option]...) {
    options = groups.flatMap { $0 }
  }

  /// The names that take a value.
  var valued: Set<String> { Set(options.filter { $0.value != nil }.map(\.name)) }

  /// The option lines of the help text: names in a column, help beside them.
  var help: String {
    let column = 23
    var lines: [String] = []
    for option in options {
      let name = "--" + option.name + (option.value.map { " " + $0 } ?? "")
      var help = option.help[...]
      if name.count < column {
        lines.append("  " + name.padding(toLength: column, withPad: " ", startingAt: 0) + (help.popFirst() ?? ""))
      } else {
        lines.append("  " + name)
      }
      lines += help.map { "  " + String(repeating: " ", count: column) + $0 }
    }
    return lines.joined(separator: "\n")
  }

  /// The command line parsed and checked against the table.
  func parse(_ raw: [String]) throws -> Arguments {
    try Arguments(raw, options: valued, flags: Set(options.filter { $0.value == nil }.map(\.name)))
  }
}

/// The options of the commands that read data (see `loadData`).
let dataOptions = [
  Option(
    "data", "DIR", "cifar-10-batches-bin directory (default: $CIFAR10_DIR, else",
    "Datasets/cifar-10-batches-bin; Scripts/get-cifar10.sh fetches it),",
    "or an image folder: one subfolder of JPEG/PNG/PGM/PPM images per class"),
  Option(
    "test-data", "DIR", "with an image folder: the test images, in the same layout",
    "(default: --hold-out of each class of --data, drawn from seed 0)"),
  Option(
    "hold-out", "F", "with an image folder and no --test-data: the fraction of each",
    "class held out for testing (default 0.2)"),
  Option(
    "image-size", "HxW", "with an image folder: resize every image to H x W by area",
    "averaging (default: the images' own size, which must agree)"),
]

/// How the commands that read a checkpoint are told its model when it records none.
let checkpointModelOptions = [
  Option(
    "model", "NAME", "the checkpoint's model, a zoo name (default: the model the",
    "checkpoint records: a zoo name, else the layer configuration it",
    "holds, else seed)"),
  Option("pooling", "KIND", "its pooling, as in cnn train (default: what the checkpoint records)"),
  Option("pooling-k", "N", "k of avgtopk pooling, as in cnn train"),
  Option("pooling-p", "X", "p of lp pooling, as in cnn train"),
]

/// The zoo models' pooling, for the commands that build one.
let poolingOptions = [
  Option(
    "pooling", "KIND", "the model's pooling layers (2x2, stride 2): max (default),",
    "average, min, mixed (learned max-average mix), lp or avgtopk"),
  Option("pooling-k", "N", "k of avgtopk: the mean of the k largest of 4 values (default 2)"),
  Option("pooling-p", "X", "p of lp: (sum of x^p)^(1/p), as PyTorch's LPPool2d (default 2)"),
]

/// --threads for the commands that evaluate.
let threadsOption = Option("threads", "N", "threads, 1 to the number of cores (default: all)")
