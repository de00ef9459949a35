import CNN
import Foundation

/// The report's HTML, built section by section.
struct ReportPage {
  let title: String
  private var notes: [String] = []
  private var sections: [String] = []

  init(title: String) { self.title = title }

  /// Something the report could not show, and why.
  mutating func missing(_ note: String) { notes.append(note) }

  mutating func runSection(
    metadata: [String: String], epochs: [[String: Double]], model: Sequential?, checkpoint: String, metricsPath: String
  ) {
    var rows = [("checkpoint", checkpoint), ("metrics log", metricsPath)]
    if let epoch = metadata["epoch"] { rows.append(("epochs saved", epoch)) }
    if let optimizer = metadata["optimizer"] { rows.append(("optimizer", optimizer)) }
    rows += ((try? RunRecord(metadata: metadata, checkpoint: checkpoint)) ?? nil)?.rows() ?? []
    if !epochs.isEmpty {
      let seconds = epochs.compactMap { $0["seconds"] }.reduce(0, +)
      let rates = epochs.compactMap { $0["images_per_second"] }
      rows.append(("epochs logged", "\(epochs.count)"))
      rows.append(("training time", String(format: "%.0f s (%.1f min), the epochs' sum", seconds, seconds / 60)))
      if !rates.isEmpty {
        rows.append(
          (
            "images/s",
            String(
              format: "%.0f mean, %.0f to %.0f", rates.reduce(0, +) / Double(rates.count), rates.min()!, rates.max()!)
          ))
      }
      if let last = epochs.last, let accuracy = last["test_accuracy"] {
        rows.append(("last test accuracy", String(format: "%.2f%%", 100 * accuracy)))
      }
    }
    var html = "<h2>The run</h2><table class=\"facts\">"
    for (k, v) in rows { html += "<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>" }
    html += "</table>"
    if let model { html += "<h3>Model</h3><pre>\(escape(model.summary()))</pre>" }
    sections.append(html)
  }

  mutating func curves(_ epochs: [[String: Double]]) {
    guard !epochs.isEmpty else { return }
    func series(_ key: String, _ name: String, _ color: String, scale: Double = 1) -> ChartSeries {
      ChartSeries(
        name: name, color: color,
        points: epochs.compactMap { e in e[key].flatMap { v in e["epoch"].map { ($0, v * scale) } } })
    }
    var html = "<h2>Training curves</h2><div class=\"row\">"
    html += lineChart(
      title: "Loss", xLabel: "epoch", yLabel: "loss (cross-entropy)",
      series: [series("loss", "training", "#1f77b4"), series("test_loss", "test", "#d62728")])
    html += lineChart(
      title: "Accuracy", xLabel: "epoch", yLabel: "accuracy (%)",
      series: [
        series("accuracy", "training", "#1f77b4", scale: 100), series("test_accuracy", "test", "#d62728", scale: 100),
      ])
    if epochs.contains(where: { $0["learning_rate"] != nil }) {
      html += lineChart(
        title: "Learning rate at the epoch's end", xLabel: "epoch", yLabel: "learning rate",
        series: [series("learning_rate", "learning rate", "#2ca02c")])
    }
    sections.append(html + "</div>")
  }

  mutating func confusion(_ cm: ConfusionMatrix) {
    let n = cm.classNames.count
    let total = cm.counts.flatMap { $0 }.reduce(0, +)
    var html =
      "<h2>Test set: \(total) images, accuracy \(String(format: "%.2f%%", 100 * cm.accuracy))</h2><div class=\"row\">"
    html += heatMap(cm.counts, classNames: cm.classNames)
    html +=
      "<table class=\"classes\"><tr><th>class</th><th>precision</th><th>recall</th><th>accuracy</th><th>images</th></tr>"
    for c in 0..<n {
      let tp = Double(cm.counts[c][c])
      let predicted = Double((0..<n).reduce(0) { $0 + cm.counts[$1][c] })
      let actual = Double(cm.counts[c].reduce(0, +))
      let tn = Double(total) - predicted - actual + tp
      func pct(_ x: Double, _ d: Double) -> String { d > 0 ? String(format: "%.1f%%", 100 * x / d) : "–" }
      html += "<tr><td>\(escape(cm.classNames[c]))</td><td>\(pct(tp, predicted))</td><td>\(pct(tp, actual))</td>"
      html += "<td>\(pct(tp + tn, Double(total)))</td><td>\(Int(actual))</td></tr>"
    }
    sections.append(
      html
        + "</table></div><p class=\"note\">Rows: true class; columns: predicted class; the colour is the share of the row. Recall is the class's accuracy in the usual sense; accuracy here counts the class's right answers and the other classes' right rejections.</p>"
    )
  }

  mutating func misclassified(_ test: ImageDataset, predictions: [Int], confidence: [Float]) throws {
    let wrong = test.labels.indices.filter { Int(test.labels[$0]) != predictions[$0] }
    let shown = wrong.sorted { confidence[$0] > confidence[$1] }.prefix(48)
    var html =
      "<h2>Misclassified test images: \(wrong.count), the \(shown.count) most confident shown</h2><div class=\"grid\">"
    for i in shown {
      let image = try batchImage(test.batch([i][...]).images, 0)
      let (truth, guess) = (test.classNames[Int(test.labels[i])], test.classNames[predictions[i]])
      html += "<figure>\(imageTag(image, scale: max(1, 96 / image.width), title: "test image \(i)"))"
      html +=
        "<figcaption>#\(i)<br>true: \(escape(truth))<br>predicted: \(escape(guess)) \(String(format: "%.0f%%", 100 * confidence[i]))</figcaption></figure>"
    }
    sections.append(html + "</div>")
  }

  mutating func filters(_ model: Sequential) {
    guard let index = model.layers.firstIndex(where: { $0 is Conv2D }), let conv = model.layers[index] as? Conv2D,
      let kernel = conv.parameters.first(where: { $0.name == "kernel" })?.variable.value,
      let images = try? filterImages(kernel)
    else { return }
    var html =
      "<h2>First convolution's filters (\(escape(model.layerNames[index])): \(images.count) of \(kernel.shape[0])×\(kernel.shape[1])×\(kernel.shape[2]))</h2>"
    html +=
      "<p class=\"note\">Each filter stretched over its own range; RGB when it reads colour channels, else the mean over its inputs.</p><div class=\"grid\">"
    for (i, image) in images.enumerated() {
      html += imageTag(image, scale: max(4, 48 / image.width), title: "filter \(i)")
    }
    sections.append(html + "</div>")
  }

  mutating func featureMaps(_ model: Sequential, _ test: ImageDataset) throws {
    var x = Variable(test.batch([0][...]).images)
    let input = try batchImage(x.value, 0)
    var html = "<h2>Feature maps of test image 0 (\(escape(test.classNames[Int(test.labels[0])])))</h2>"
    html += "<p>\(imageTag(input, scale: max(1, 96 / input.width), title: "test image 0"))</p>"
    html +=
      "<p class=\"note\">The first 16 channels after each convolution and pooling layer, each in gray over its own range: pooling keeps each window's strongest response at a quarter of the positions.</p>"
    for (layer, name) in zip(model.layers, model.layerNames) {
      x = try layer(x)
      let kind = "\(type(of: layer))"
      guard layer is Conv2D || kind.contains("Pooling"), x.shape.count == 4 else { continue }
      let maps = try CNNCommand.featureMaps(x.value, count: 16)
      html += "<h3>\(escape(name)) (\(kind)): \(x.shape[1])×\(x.shape[2])×\(x.shape[3])</h3><div class=\"grid\">"
      for (k, map) in maps.enumerated() { html += imageTag(map, scale: max(1, 64 / map.width), title: "channel \(k)") }
      html += "</div>"
    }
    sections.append(html)
  }

  func html(seconds: Double) -> String {
    let style = """
      body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}h2{margin-top:32px;border-bottom:1px solid #ccc}
      table{border-collapse:collapse}th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #eee}
      .row,.grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
      img{image-rendering:pixelated;border:1px solid #ccc}figure{margin:0;font-size:12px;text-align:center}
      svg text{font-size:12px;fill:#222}svg .title{font-size:14px;font-weight:bold}
      .grid line,svg .grid{stroke:#e5e5e5}svg .axis{stroke:#222}svg .frame{fill:none;stroke:#222}
      .note{color:#666;font-size:13px}.missing{background:#fff4e0;padding:8px;border-left:4px solid #f0a000}
      pre{background:#f7f7f7;padding:8px;overflow-x:auto}
      """
    var page = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(escape(title))</title>"
    page += "<style>\(style)</style></head><body><h1>\(escape(title))</h1>"
    for note in notes { page += "<p class=\"missing\">\(escape(note))</p>" }
    page += sections.joined(separator: "\n")
    return page + "<p class=\"note\">Written by cnn report in \(String(format: "%.1f", seconds)) s.</p></body></html>\n"
  }
}
