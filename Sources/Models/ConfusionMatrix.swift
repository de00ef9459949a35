import Autograd
import Datasets
import Layers
import Optimizers
import Tensors

/// Counts of (true class, predicted class), with per-class accuracy and a printable table.
public struct ConfusionMatrix: Sendable {
  public let classNames: [String]
  /// counts[truth][predicted]
  public let counts: [[Int]]

  public init(labels: [Int], predictions: [Int], classNames: [String]) {
    var c = Array(repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
    for (t, p) in zip(labels, predictions) where t < classNames.count && p < classNames.count { c[t][p] += 1 }
    self.classNames = classNames
    counts = c
  }

  public var accuracy: Double {
    let total = counts.joined().reduce(0, +)
    return total == 0 ? 0 : Double((0..<counts.count).map { counts[$0][$0] }.reduce(0, +)) / Double(total)
  }

  /// Fraction of each class's images predicted correctly.
  public var perClassAccuracy: [Double] {
    counts.enumerated().map { i, row in
      let n = row.reduce(0, +)
      return n == 0 ? 0 : Double(row[i]) / Double(n)
    }
  }

  /// Rows are true classes, columns predicted classes.
  public func table() -> String {
    let w = max(6, (counts.joined().map { String($0).count }.max() ?? 1) + 1)
    let nameW = (classNames.map(\.count).max() ?? 5) + 2
    func right(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
    func left(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
    var out = left("true \\ predicted", nameW) + "\n"
    out += left("", nameW) + classNames.map { right(String($0.prefix(w - 1)), w) }.joined() + "\n"
    for (i, row) in counts.enumerated() {
      out += left(classNames[i], nameW) + row.map { right(String($0), w) }.joined() + "\n"
    }
    return out
  }
}
