import CNN
import Foundation
import Tensors

let exportOptions = OptionTable(
  [
    Option("checkpoint", "PATH", "the checkpoint (default runs/model.safetensors)"),
    Option("output", "PATH", "the ONNX file to write (default model.onnx)"),
  ],
  checkpointModelOptions)

let exportHelp = """
  usage: cnn export [options]

  Writes a checkpoint's model as an ONNX file (opset 17), for ONNX Runtime, converters to
  Core ML or TensorRT, and browsers: the inference graph (dropout left out, batch norm on its
  moving statistics) with the trained weights. The input is named "input", float32 NHWC
  [N, height, width, channels] with pixels scaled to 0...1, as `cnn predict` feeds the model;
  the graph turns it to NCHW itself. The output is named "output": the model's last layer
  (probabilities if it ends in a softmax, else logits). A layer with no ONNX form is refused
  by name.

  options:
  \(exportOptions.help)

  Exit status: 0 written, 1 an unreadable checkpoint, a layer with no ONNX form or a file
  that cannot be written, 2 bad command line.
  """

func runExport(_ raw: [String]) throws -> Int32 {
  let args = try exportOptions.parse(raw)
  let checkpoint = args.string("checkpoint") ?? "runs/model.safetensors"
  let output = args.string("output") ?? "model.onnx"
  do {
    try checkWritable(output, what: "the ONNX file", regularFile: true)
  } catch let error as TensorError {
    throw CommandError(.usage, error.message)
  }
  let recorded = (try? SafeTensors.readMetadata(checkpoint)) ?? [:]
  let shape = try recordedInputShape(recorded, checkpoint: checkpoint) ?? [32, 32, 3]
  let classes = try recordedClassNames(recorded, checkpoint: checkpoint)?.count ?? 10
  let (model, _) = try loadCheckpointModel(args, checkpoint: checkpoint, imageShape: shape, classes: classes)
  do {
    try model.exportONNX(to: output)
  } catch let error as ModelError {
    throw CommandError(.failure, "cannot export \(quoted(checkpoint)): \(error)")
  }
  let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
  print(
    "Wrote \(quoted(output)) (\(size / 1024) KB): input [N, \(shape.map(String.init).joined(separator: ", "))] NHWC, output [N, \(model.outputShape.map(String.init).joined(separator: ", "))]"
  )
  return 0
}
