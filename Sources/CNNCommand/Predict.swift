import CNN
import Foundation

let predictOptions = OptionTable(
  [
    Option("checkpoint", "PATH", "the checkpoint (default runs/model.safetensors)")
  ],
  checkpointModelOptions,
  [Option("top", "N", "classes printed per image (default 3)"), threadsOption])

let predictHelp = """
  usage: cnn predict [options] IMAGE...

  Classifies image files with a checkpoint: JPEG (baseline, extended and progressive,
  gray or colour, any chroma subsampling, EXIF orientation applied), PNG (gray, RGB,
  palette, with or without alpha, bit depths 1 to 16, interlaced or not) and binary
  PGM/PPM, up to 65,536 pixels a side. Each image is read a row at a time straight into
  the model's input size by area averaging (gray becomes RGB and back as the model needs)
  and its most likely classes are printed with their probabilities. A file that cannot be
  read is reported and the others are still classified.

  options:
  \(predictOptions.help)

  Exit status: 0 every image classified, 1 some file could not be read or another
  error, 2 bad command line.
  """

func runPredict(_ raw: [String]) throws -> Int32 {
  // Options and their values first, image paths anywhere (after `--`, even ones that start
  // with dashes).
  let valued = predictOptions.valued
  var (options, files) = ([String](), [String]())
  var i = 0
  while i < raw.count {
    let a = raw[i]
    if a == "--" {
      files += raw[(i + 1)...]
      break
    }
    if a.hasPrefix("--") && a.count > 2 {
      options.append(a)
      if valued.contains(String(a.dropFirst(2))), i + 1 < raw.count {
        options.append(raw[i + 1])
        i += 1
      }
    } else {
      files.append(a)
    }
    i += 1
  }
  let args = try predictOptions.parse(options)
  guard !files.isEmpty else { throw CommandError(.usage, "no image files given") }
  Threads.count = try args.threads()
  let checkpoint = args.string("checkpoint") ?? "runs/model.safetensors"
  let recorded = (try? SafeTensors.readMetadata(checkpoint)) ?? [:]
  let recordedShape = try recordedInputShape(recorded, checkpoint: checkpoint)
  let recordedNames = try recordedClassNames(recorded, checkpoint: checkpoint)
  let names = recordedNames ?? CIFAR10.defaultClassNames
  let (model, _) = try loadCheckpointModel(
    args, checkpoint: checkpoint, imageShape: recordedShape ?? [32, 32, 3], classes: names.count)
  // The model as built decides: the recorded shape and classes must agree with it.
  let shape = model.inputShape
  guard shape.count == 3, shape[2] == 1 || shape[2] == 3, model.outputShape == [names.count] else {
    throw CommandError(
      .failure,
      "the model of \(quoted(checkpoint)) takes \(shape) and gives \(model.outputShape), which does not fit images of 1 or 3 channels in \(names.count) classes"
    )
  }
  let top = try args.int("top", default: min(3, names.count), in: 1...names.count)
  var failed = 0
  for file in files {
    let image: PixelImage
    do {
      image = try PixelImage(contentsOf: file, height: shape[0], width: shape[1], channels: shape[2])
    } catch let error as ImageFileError {
      printError("\(error)")
      failed += 1
      continue
    }
    let x = Tensor(uninitialized: [1] + shape)
    for (k, p) in image.pixels.enumerated() { x[k] = Float(p) / 255 }
    let y = try classProbabilities(model, x)
    let probabilities = (0..<names.count).map { y[$0] }
    let best = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
    // One line per image: a name with control characters (a newline) is shown quoted and escaped.
    let shown = file.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? quoted(file) : file
    print(
      shown + ": "
        + best.map { "\(names[$0]) \(String(format: "%.1f%%", 100 * probabilities[$0]))" }.joined(separator: ", "))
  }
  return failed == 0 ? 0 : 1
}

/// The model's class probabilities for a batch: its outputs, through a softmax unless it ends in one.
func classProbabilities(_ model: Sequential, _ x: Tensor) throws -> Tensor {
  let y = try model.predict(x)
  return endsInSoftmax(model) ? y : softmax(Variable(y)).value
}
