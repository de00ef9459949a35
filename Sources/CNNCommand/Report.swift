import CNN
import Foundation

let reportOptions = OptionTable(
  [
    Option("checkpoint", "PATH", "the run's checkpoint (default runs/model.safetensors)"),
    Option("metrics", "PATH", "its JSON-lines log (default: checkpoint path with .metrics.jsonl)"),
    Option("output", "PATH", "the HTML file to write (default report.html)"),
  ],
  dataOptions,
  [Option("limit", "N", "evaluate the first N test images only (default: all)")],
  checkpointModelOptions,
  [threadsOption])

let reportHelp = """
  usage: cnn report [options]

  Writes one self-contained HTML file about a training run: the run (model summary, the
  options the checkpoint records, epochs, time, images/s), training curves per epoch
  (loss, accuracy, learning rate), the test set's confusion matrix as a heat map with
  each class's precision, recall and accuracy, the misclassified test images with their
  true and predicted classes, the first convolution's filters and one test image's feature
  maps through every convolution and pooling layer. No scripts, no network: inline SVG and
  embedded PNG images. Works on a run in progress (the epochs logged so far) and says what
  is missing when the log, the checkpoint or the data is absent.

  options:
  \(reportOptions.help)

  Exit status: 0 written, 1 nothing to report or the file could not be written,
  2 bad command line.
  """

func runReport(_ raw: [String]) throws -> Int32 {
  let args = try reportOptions.parse(raw)
  let start = Date()
  Threads.count = try args.threads()
  let checkpoint = args.string("checkpoint") ?? "runs/model.safetensors"
  let metricsPath = args.string("metrics") ?? checkpointStem(checkpoint) + ".metrics.jsonl"
  let output = args.string("output") ?? "report.html"
  let limit = try args.optionalInt("limit", in: 1...Int.max)
  var page = ReportPage(title: "Training report: \((checkpoint as NSString).lastPathComponent)")
  let epochs = readEpochs(metricsPath, page: &page)
  let metadata = (try? SafeTensors.readMetadata(checkpoint)) ?? [:]
  var model: Sequential?
  if pathKind(checkpoint) == .file {
    do {
      let shape = try recordedInputShape(metadata, checkpoint: checkpoint) ?? [32, 32, 3]
      let classes = try recordedClassNames(metadata, checkpoint: checkpoint)?.count ?? 10
      model = try loadCheckpointModel(args, checkpoint: checkpoint, imageShape: shape, classes: classes).0
    } catch {
      page.missing(
        "The checkpoint \(quoted(checkpoint)) could not be loaded (\(error)): no model, evaluation or pictures.")
    }
  } else {
    page.missing("No checkpoint at \(quoted(checkpoint)): no model summary, evaluation or pictures.")
  }
  guard model != nil || !epochs.isEmpty else {
    throw CommandError(
      .failure,
      "nothing to report: no checkpoint at \(quoted(checkpoint)) and no metrics log at \(quoted(metricsPath))")
  }
  page.runSection(metadata: metadata, epochs: epochs, model: model, checkpoint: checkpoint, metricsPath: metricsPath)
  page.curves(epochs)
  if let model { try reportEvaluation(model, args, metadata: metadata, limit: limit, page: &page) }
  let html = page.html(seconds: Date().timeIntervalSince(start))
  do {
    try writeAtomically([UInt8](html.utf8), to: output, what: "the report")
  } catch let e as TensorError {
    throw CommandError(.failure, e.message)
  }
  print(
    "Wrote \(quoted(output)) (\(html.utf8.count / 1024) KB) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s"
  )
  return 0
}

/// The epochs' lines of the metrics log (what it holds so far), or a note that it is missing.
private func readEpochs(_ path: String, page: inout ReportPage) -> [[String: Double]] {
  let text: String
  do {
    text = String(decoding: try readFile(path, what: "the metrics log", limit: 1 << 28), as: UTF8.self)
  } catch {
    page.missing("No metrics log: \(error); no training curves, time or images/s.")
    return []
  }
  let epochs = text.split(separator: "\n").compactMap { line -> [String: Double]? in
    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
    return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
  }
  if epochs.isEmpty { page.missing("The metrics log \(quoted(path)) holds no finished epoch yet.") }
  return epochs
}

/// The test data's confusion matrix, misclassified images, filters and feature maps.
private func reportEvaluation(
  _ model: Sequential, _ args: Arguments, metadata: [String: String], limit: Int?, page: inout ReportPage
) throws {
  let shape = model.inputShape
  let test: ImageDataset
  do {
    test = try loadData(args, limit: 1, testLimit: limit, defaultSize: shape.count == 3 ? (shape[0], shape[1]) : nil)
      .test
    guard test.imageShape == model.inputShape, model.outputShape == [test.classNames.count] else {
      throw CommandError(
        .failure,
        "the model takes \(model.inputShape) into \(model.outputShape), the test data is \(test.imageShape) in \(test.classNames.count) classes"
      )
    }
  } catch {
    page.missing("No test data (\(error)): no confusion matrix or misclassified images.")
    page.filters(model)
    return
  }
  var predictions: [Int] = []
  var confidence: [Float] = []
  for first in stride(from: 0, to: test.count, by: 200) {
    let (x, _) = test.batch(Array(first..<min(test.count, first + 200))[...])
    let y = try classProbabilities(model, x)
    let classes = y.shape[1]
    for n in 0..<x.shape[0] {
      let row = (0..<classes).map { y[n * classes + $0] }
      let best = row.indices.max { row[$0] < row[$1] }!
      predictions.append(best)
      confidence.append(row[best])
    }
  }
  page.confusion(
    ConfusionMatrix(labels: test.labels.map(Int.init), predictions: predictions, classNames: test.classNames))
  try page.misclassified(test, predictions: predictions, confidence: confidence)
  page.filters(model)
  try page.featureMaps(model, test)
}
