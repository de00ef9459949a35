import Autograd
import Layers
import Tensors

/// Running means of the compiled metrics over batches, weighted by batch size.
struct MetricSums {
  let metrics: [Metric]
  var sums: [Double]
  var seen = 0

  init(_ metrics: [Metric]) {
    self.metrics = metrics
    sums = Array(repeating: 0, count: metrics.count)
  }

  /// A batch's metrics, each already times the batch's `count`.
  mutating func add(_ weighted: ArraySlice<Double>, count: Int) {
    for (i, value) in weighted.enumerated() { sums[i] += value }
    seen += count
  }

  mutating func add(_ outputs: Tensor, _ labels: [Int]) {
    for (i, m) in metrics.enumerated() { sums[i] += m(outputs, labels: labels) * Double(labels.count) }
    seen += labels.count
  }

  /// The sums over every process of a group.
  mutating func combine(over group: any ProcessGroup) throws {
    let all = try groupSum(sums + [Double(seen)], over: group)
    sums = Array(all.dropLast())
    seen = Int(all.last ?? 0)
  }

  var means: [String: Double]? {
    metrics.isEmpty ? nil : Dictionary(zip(metrics.map(\.name), sums.map { $0 / Double(max(seen, 1)) })) { a, _ in a }
  }
}
