import Tensors

// The same sums over a batch on one process or many. A training batch is cut into
// `BatchShards.count` shards by its size alone; every sum over its examples (a parameter's
// gradient, batch norm's statistics, the loss) is formed shard by shard, and the shards' sums
// are added as one fixed binary tree: leaves 0 and 1, 2 and 3, ..., then those pairs, and so
// on. A process that holds an aligned run of shards (N processes for a power of two N that
// divides the count) adds its own subtree, and the processes' subtrees are added as the
// tree's top levels: the bits do not depend on N.

/// A group of processes that train one model together (ranks 0..<size), as the ops see it.
public protocol ProcessGroup: AnyObject, Sendable {
  var rank: Int { get }
  var size: Int { get }
  /// Every rank's `send` (the same byte count on each), concatenated in rank order.
  func allGather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws
  /// Block j of `send` (its byte count divided by `size`) to rank j; block i of `receive` from
  /// rank i.
  func allToAll(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws
}

/// Which shards of a global batch this process holds, and the group it shares the rest with.
public struct BatchShards: Sendable {
  /// Shards per batch: N processes train together when N is a power of two dividing it.
  public static let count = 16

  /// Examples in the whole batch, over all processes.
  public let globalSize: Int
  /// The shards held here.
  public let held: Range<Int>
  public let group: (any ProcessGroup)?

  /// The whole of a batch of `size` examples in one process.
  public static func whole(_ size: Int) -> BatchShards {
    BatchShards(globalSize: size, held: 0..<count, group: nil)
  }

  /// Rank `rank`'s part of a batch of `globalSize` examples shared by `group`.
  public init(globalSize: Int, held: Range<Int>, group: (any ProcessGroup)?) {
    self.globalSize = globalSize
    self.held = held
    self.group = group
  }

  /// Whether `n` processes can share the shards: a power of two that divides the count.
  public static func supports(processes n: Int) -> Bool {
    n > 0 && n <= count && n & (n - 1) == 0 && count % n == 0
  }

  /// The shards rank `rank` of `size` holds.
  public static func held(rank: Int, of size: Int) -> Range<Int> {
    (rank * count / size)..<((rank + 1) * count / size)
  }

  /// Shard `s`'s examples in a batch of `size`.
  public static func range(_ s: Int, of size: Int) -> Range<Int> {
    (s * size / count)..<((s + 1) * size / count)
  }

  /// This process's examples of the global batch.
  public var heldExamples: Range<Int> {
    Self.range(held.lowerBound, of: globalSize).lowerBound..<Self.range(held.upperBound - 1, of: globalSize).upperBound
  }

  /// Examples held here.
  public var localSize: Int { heldExamples.count }

  /// Each held shard's examples, counted from the first held example (some may be empty).
  public var ranges: [Range<Int>] {
    let first = heldExamples.lowerBound
    return held.map { s in
      let r = Self.range(s, of: globalSize)
      return (r.lowerBound - first)..<(r.upperBound - first)
    }
  }

  /// The shards of the batch `x` belongs to: its tape's when they describe its first axis,
  /// the whole of it otherwise (inference, or a tensor that is not a batch of examples).
  /// In a group, a first axis that is not the held examples' count is an error.
  public static func of(_ x: Variable) throws -> BatchShards {
    let n = x.shape.first ?? 1
    guard let shards = x.tape?.shards else { return whole(n) }
    if shards.localSize == n { return shards }
    if shards.group != nil {
      throw ShapeError("a sum over a batch of \(n) examples, where this process holds \(shards.localSize)")
    }
    return whole(n)
  }

  /// The sum over the whole batch of per-shard sums (`parts`: one row of `n` per held shard):
  /// this process's subtree, then the group's top levels through `allGather`.
  public func total(_ parts: [[Double]]) throws -> [Double] {
    try combine(treeSum(parts))
  }

  /// The whole batch's sum from this process's subtree sum: the group's top levels.
  public func combine(_ mine: [Double]) throws -> [Double] {
    guard let group, group.size > 1 else { return mine }
    var all = [Double](repeating: 0, count: mine.count * group.size)
    try mine.withUnsafeBytes { send in
      try all.withUnsafeMutableBytes { try group.allGather(send, into: $0) }
    }
    return treeSum((0..<group.size).map { Array(all[($0 * mine.count)..<(($0 + 1) * mine.count)]) })
  }
}

/// The tree sum of equally long rows (see the top of this file).
public func treeSum<T: FloatingPoint>(_ rows: [[T]]) -> [T] {
  guard !rows.isEmpty else { return [] }
  var level = rows
  while level.count > 1 {
    level = stride(from: 0, to: level.count, by: 2).map { i in
      i + 1 < level.count ? zip(level[i], level[i + 1]).map { $0 + $1 } : level[i]
    }
  }
  return level[0]
}

/// The tree sum of `rows` rows of `n` floats at `parts`, left in the first row (the others
/// are overwritten). Columns are summed in parallel; each column's tree is fixed.
package func treeSumInPlace(_ parts: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
  guard rows > 1 else { return }
  let block = 4096
  parallelFor((n + block - 1) / block) { b in
    let columns = (b * block)..<Swift.min(n, (b + 1) * block)
    var step = 1
    while step < rows {
      for i in stride(from: 0, to: rows - step, by: 2 * step) {
        addInPlace(parts + i * n + columns.lowerBound, parts + (i + step) * n + columns.lowerBound, columns.count)
      }
      step *= 2
    }
  }
}
