import Tensors

// The same sums over a batch on one process or many. A training batch is cut into shards by
// its size alone (`BatchShards.count(forBatch:)`); every sum over its examples (a parameter's
// gradient, batch norm's statistics, the loss) is formed shard by shard, and the shards' sums
// are added as one fixed binary tree: leaves 0 and 1, 2 and 3, ..., then those pairs, and so
// on. A process that holds an aligned run of shards (N processes for a power of two N up to
// the shard count) adds its own subtree, and the processes' subtrees are added as the tree's
// top levels: the bits do not depend on N. A batch of one shard is summed as it always was.

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
  /// The most shards a batch is cut into.
  public static let maximumCount = 16
  /// The fewest examples per shard a batch is cut for: smaller shards would cost more in
  /// partial sums than they save.
  public static let minimumSize = 32

  /// The shards a batch of `size` examples is cut into: the largest power of two up to
  /// `maximumCount` whose shards hold at least `minimumSize` examples (1 for small batches).
  public static func count(forBatch size: Int) -> Int {
    var n = 1
    while n * 2 <= maximumCount && n * 2 * minimumSize <= size { n *= 2 }
    return n
  }

  /// Whether `processes` can share batches of `batchSize`: a power of two up to their shard count.
  public static func supports(processes: Int, batchSize: Int) -> Bool {
    processes > 0 && processes & (processes - 1) == 0 && processes <= count(forBatch: batchSize)
  }

  /// The shards rank `rank` of `size` holds of `count`.
  public static func held(rank: Int, of size: Int, shards count: Int) -> Range<Int> {
    (rank * count / size)..<((rank + 1) * count / size)
  }

  /// Examples in this batch, over all processes (the last batch of an epoch may be smaller
  /// than the rest; it is cut into as many shards).
  public let globalSize: Int
  /// Shards in the batch.
  public let count: Int
  /// The shards held here.
  public let held: Range<Int>
  public let group: (any ProcessGroup)?

  /// The whole of a batch of `size` examples in one process.
  public static func whole(_ size: Int) -> BatchShards {
    let count = count(forBatch: size)
    return BatchShards(globalSize: size, count: count, held: 0..<count, group: nil)
  }

  public init(globalSize: Int, count: Int, held: Range<Int>, group: (any ProcessGroup)?) {
    self.globalSize = globalSize
    self.count = count
    self.held = held
    self.group = group
  }

  /// Shard `s`'s examples in the batch.
  public func range(_ s: Int) -> Range<Int> {
    (s * globalSize / count)..<((s + 1) * globalSize / count)
  }

  /// This process's examples of the global batch.
  public var heldExamples: Range<Int> {
    range(held.lowerBound).lowerBound..<range(held.upperBound - 1).upperBound
  }

  /// Examples held here.
  public var localSize: Int { heldExamples.count }

  /// Each held shard's examples, counted from the first held example (some may be empty).
  public var ranges: [Range<Int>] {
    let first = heldExamples.lowerBound
    return held.map { s in
      let r = range(s)
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
      throw TensorError("a sum over a batch of \(n) examples, where this process holds \(shards.localSize)")
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
