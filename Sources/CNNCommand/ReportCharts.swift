import Foundation

// Inline SVG for the report: line charts with labelled axes and a heat map. No scripts, no
// external fonts: the browser's default sans-serif.

/// One line of a chart: (x, y) points in a colour.
struct ChartSeries {
  let name: String
  let color: String
  let points: [(x: Double, y: Double)]
}

/// A line chart, `width`×`height` pixels, x and y axes with "nice" ticks and their labels, a
/// legend. Empty series are left out; with none, a note says so.
func lineChart(
  title: String, xLabel: String, yLabel: String, series all: [ChartSeries], width: Double = 460, height: Double = 280
) -> String {
  // Only finite points within a range a chart can scale (a diverged run logs NaN or huge losses).
  let series = all.map { s in
    ChartSeries(name: s.name, color: s.color, points: s.points.filter { abs($0.x) < 1e30 && abs($0.y) < 1e30 })
  }.filter { !$0.points.isEmpty }
  guard !series.isEmpty else { return "<p class=\"note\">\(escape(title)): no values logged.</p>" }
  let xs = series.flatMap { $0.points.map(\.x) }
  let ys = series.flatMap { $0.points.map(\.y) }
  // Whole-number x values (epochs) get whole-number ticks.
  let (xTicks, xRange) = niceTicks(xs.min()!, xs.max()!, minimumStep: xs.allSatisfy { $0 == $0.rounded() } ? 1 : 0)
  let (yTicks, yRange) = niceTicks(ys.min()!, ys.max()!)
  let (left, right, top, bottom) = (62.0, 14.0, 30.0, 46.0)
  let plotW = width - left - right
  let plotH = height - top - bottom
  func px(_ x: Double) -> Double { left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotW }
  func py(_ y: Double) -> Double {
    top + plotH - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * plotH
  }
  var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\">"
  svg += "<text x=\"\(f(width / 2))\" y=\"18\" text-anchor=\"middle\" class=\"title\">\(escape(title))</text>"
  for t in yTicks {
    svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\" class=\"grid\"/>"
    svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(tickLabel(t))</text>"
  }
  for t in xTicks {
    svg +=
      "<line x1=\"\(f(px(t)))\" x2=\"\(f(px(t)))\" y1=\"\(f(top + plotH))\" y2=\"\(f(top + plotH + 4))\" class=\"axis\"/>"
    svg += "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotH + 17))\" text-anchor=\"middle\">\(tickLabel(t))</text>"
  }
  svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" class=\"frame\"/>"
  svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
  svg +=
    "<text transform=\"translate(14,\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
  for (i, s) in series.enumerated() {
    let path = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
    svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"/>"
    for p in s.points { svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(s.color)\"/>" }
    let ly = top + 14 + Double(i) * 16
    svg += "<rect x=\"\(f(left + 10))\" y=\"\(f(ly - 9))\" width=\"12\" height=\"4\" fill=\"\(s.color)\"/>"
    svg += "<text x=\"\(f(left + 27))\" y=\"\(f(ly - 3))\">\(escape(s.name))</text>"
  }
  return svg + "</svg>"
}

/// Ticks at 1, 2 or 5 × 10ᵏ (and at least `minimumStep` apart) covering [low, high], and the
/// range they span.
func niceTicks(_ low: Double, _ high: Double, minimumStep: Double = 0) -> ([Double], ClosedRange<Double>) {
  var (lo, hi) = (low, high)
  if hi - lo < 1e-12 { (lo, hi) = (lo - max(1e-3, abs(lo) * 0.1), hi + max(1e-3, abs(hi) * 0.1)) }
  let raw = (hi - lo) / 5
  let magnitude = pow(10, floor(log10(raw)))
  let step = max(minimumStep, [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude)
  guard step.isFinite, step > 0 else { return ([lo, hi], lo...max(hi, lo + 1)) }
  let first = floor(lo / step) * step
  let last = ceil(hi / step) * step
  let ticks = stride(from: first, through: last + step / 2, by: step).map { $0 }
  return (ticks, first...max(last, first + step))
}

/// A confusion matrix as a heat map: cell colour by the share of the true class (row), the
/// count written in it, class names on both axes.
func heatMap(_ counts: [[Int]], classNames: [String]) -> String {
  let n = classNames.count
  let cell = n <= 12 ? 40.0 : max(12, 480 / Double(n))
  let (left, top) = (110.0, 110.0)
  let size = left + cell * Double(n) + 10
  var svg =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(size))\" height=\"\(f(top + cell * Double(n) + 30))\" role=\"img\">"
  svg += "<text x=\"\(f(left + cell * Double(n) / 2))\" y=\"14\" text-anchor=\"middle\">predicted class</text>"
  svg +=
    "<text transform=\"translate(12,\(f(top + cell * Double(n) / 2))) rotate(-90)\" text-anchor=\"middle\">true class</text>"
  for (i, name) in classNames.enumerated() {
    let c = left + (Double(i) + 0.5) * cell
    svg += "<text transform=\"translate(\(f(c + 4)),\(f(top - 6))) rotate(-60)\">\(escape(name))</text>"
    svg +=
      "<text x=\"\(f(left - 6))\" y=\"\(f(top + (Double(i) + 0.5) * cell + 4))\" text-anchor=\"end\">\(escape(name))</text>"
  }
  for (r, row) in counts.enumerated() {
    let total = max(1, row.reduce(0, +))
    for (c, count) in row.enumerated() {
      let share = Double(count) / Double(total)
      let shade = Int(255 - 200 * share)
      let (x, y) = (left + Double(c) * cell, top + Double(r) * cell)
      svg +=
        "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"rgb(\(shade),\(shade),255)\" class=\"cell\"><title>\(escape(classNames[r])) as \(escape(classNames[c])): \(count)</title></rect>"
      if cell >= 24 {
        let color = share > 0.5 ? "#fff" : "#222"
        svg +=
          "<text x=\"\(f(x + cell / 2))\" y=\"\(f(y + cell / 2 + 4))\" text-anchor=\"middle\" fill=\"\(color)\">\(count)</text>"
      }
    }
  }
  return svg + "</svg>"
}

/// A number for SVG attributes: one decimal.
private func f(_ x: Double) -> String { String(format: "%.1f", x) }

/// A tick label: no trailing zeros, at most 4 significant digits.
private func tickLabel(_ x: Double) -> String {
  let s = String(format: "%.4g", abs(x) < 1e-12 ? 0 : x)
  return s
}

/// Text made safe for HTML and SVG.
func escape(_ s: String) -> String {
  s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
