import Autograd
import Dispatch
import Layers
import Synchronization
import Tensors

// What `fit(group:)` does beyond one process: every process holds the model and takes its
// shards of each global batch (`BatchShards`); the ops add their shards' sums as the tree's
// lower levels and batch norm and the loss exchange theirs as they go; after the backward
// pass the parameters' gradients are combined here, each process summing every process's
// partial sums of one slice of them (so that each step moves about a ring allreduce's
// 2(N − 1)/N of the gradient bytes), and the slices gathered back.

extension Sequential {
  /// Refuses what data-parallel training cannot yet split by shard: trainable parameters in
  /// layers other than Conv2D, Dense and BatchNormalization (their sums over the batch would
  /// be the local batch's), and a loss other than the built-in cross-entropy.
  func checkShardable() throws {
    func walk(_ layers: [any Layer], _ path: String) throws {
      for (i, layer) in layers.enumerated() {
        let name = "\(path)layer \(i + 1) (\(type(of: layer)))"
        if let residual = layer as? Residual {
          try walk(residual.block.layers, name + ", ")
        } else if let inner = layer as? Sequential {
          try walk(inner.layers, name + ", ")
        } else if layer.parameters.contains(where: \.variable.requiresGrad)
          && !(layer is Conv2D || layer is Dense || layer is BatchNormalization)
        {
          throw TrainingError.badOptions(
            "\(name) has trainable weights that training on several processes cannot yet sum by shard; it supports trainable Conv2D, Dense and BatchNormalization layers"
          )
        }
      }
    }
    try walk(layers, "")
    if loss?.formsShardSums != true {
      throw TrainingError.badOptions(
        "the loss '\(loss?.name ?? "none")' is not one that training on several processes can sum by shard: use sparseCategoricalCrossentropy"
      )
    }
  }
}

/// Refuses a group that cannot share batches of `batchSize`: more processes than shards, or
/// a last batch of `lastBatch` examples (0: none) that would leave a process without any.
public func checkSharing(_ group: any ProcessGroup, batchSize: Int, lastBatch: Int) throws {
  let count = BatchShards.count(forBatch: batchSize)
  guard BatchShards.supports(processes: group.size, batchSize: batchSize) else {
    throw TrainingError.badOptions(
      "training on \(group.size) processes: batches of \(batchSize) are cut into \(count) shard\(count == 1 ? "" : "s") of at least \(BatchShards.minimumSize) examples, shared by a power of two of processes up to \(count) (larger batches make up to \(BatchShards.maximumCount))"
    )
  }
  guard lastBatch > 0 else { return }
  for rank in 0..<group.size {
    let held = BatchShards.held(rank: rank, of: group.size, shards: count)
    if BatchShards(globalSize: lastBatch, count: count, held: held, group: nil).localSize == 0 {
      throw TrainingError.badOptions(
        "each epoch's last batch of \(lastBatch) example\(lastBatch == 1 ? "" : "s") would leave process \(rank) of \(group.size) without any: train on a multiple of the batch size, or on at least \(group.size) more examples"
      )
    }
  }
}

/// Replaces each variable's gradient by its sum over the group, added in the tree order of
/// `BatchShards` (the processes' subtrees already summed).
func combineGradients(_ variables: [Variable], over group: any ProcessGroup) throws {
  let n = group.size
  let sizes = variables.map(\.value.count)
  let total = sizes.reduce(0, +)
  let slice = (total + n - 1) / n
  let send = TensorStorage(count: slice * n, zeroed: true)
  let receive = TensorStorage(count: slice * n, zeroed: false)
  var offset = 0
  for v in variables {
    if let g = v.grad { (send.pointer + offset).update(from: g.data, count: g.count) }
    offset += v.value.count
  }
  let bytes = slice * n * MemoryLayout<Float>.size
  try group.allToAll(
    UnsafeRawBufferPointer(start: send.pointer, count: bytes), into: .init(start: receive.pointer, count: bytes))
  // Block i of `receive` is rank i's partial sum of this rank's slice: add them as a tree.
  treeSumInPlace(receive.pointer, rows: n, n: slice)
  try group.allGather(
    UnsafeRawBufferPointer(start: receive.pointer, count: slice * MemoryLayout<Float>.size),
    into: .init(start: send.pointer, count: bytes))
  offset = 0
  for v in variables {
    let g = v.grad ?? Tensor(uninitialized: v.shape)
    g.data.update(from: send.pointer + offset, count: g.count)
    v.grad = g
    offset += v.value.count
  }
}

/// The records of `batches` batches of `width` values each, in batch order, from every
/// process's `mine` (process r holds batches r, r + N, ...; one process, all of them).
func gatherBatches(_ mine: [Double], width: Int, batches: Int, over group: (any ProcessGroup)?) throws
  -> [ArraySlice<Double>]
{
  guard let group, group.size > 1 else { return (0..<batches).map { mine[($0 * width)..<(($0 + 1) * width)] } }
  let slots = (batches + group.size - 1) / group.size
  let send = mine + repeatElement(0, count: slots * width - mine.count)
  var all = [Double](repeating: 0, count: slots * width * group.size)
  try send.withUnsafeBytes { s in try all.withUnsafeMutableBytes { try group.allGather(s, into: $0) } }
  return (0..<batches).map { b in
    let offset = ((b % group.size) * slots + b / group.size) * width
    return all[offset..<(offset + width)]
  }
}

/// The sum over the group of each process's `values`, in the tree order.
func groupSum(_ values: [Double], over group: any ProcessGroup) throws -> [Double] {
  try BatchShards(globalSize: 0, count: 1, held: 0..<1, group: group).total([values])
}

/// Checks that every process of `group` has the same value for each named item (data, model,
/// seed, options) as rank 0. Throws one message naming the first process and item that differ.
public func checkAgreement(_ items: [(name: String, value: String)], over group: any ProcessGroup) throws {
  let mine = items.map { Array($0.value.utf8).withUnsafeBytes { fnv1a($0) } }
  var all = [UInt64](repeating: 0, count: mine.count * group.size)
  try mine.withUnsafeBytes { send in try all.withUnsafeMutableBytes { try group.allGather(send, into: $0) } }
  for rank in 1..<group.size {
    for (i, item) in items.enumerated() where all[rank * items.count + i] != all[i] {
      throw TrainingError.badOptions(
        "process \(rank) of \(group.size) does not match process 0: its \(item.name) differ\(item.name.hasSuffix("s") ? "" : "s"); every process must train on the same data with the same model, seed and options"
      )
    }
  }
}

/// A group that keeps the time its exchanges take, waits for slower processes included: the
/// communication share of training that `EpochResult.communicationSeconds` reports.
final class TimedGroup: ProcessGroup {
  let inner: any ProcessGroup
  private let nanoseconds = Atomic<UInt64>(0)

  init(_ inner: any ProcessGroup) { self.inner = inner }

  var rank: Int { inner.rank }
  var size: Int { inner.size }

  func allGather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    try timed { try inner.allGather(send, into: receive) }
  }

  func allToAll(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    try timed { try inner.allToAll(send, into: receive) }
  }

  /// The seconds spent since the last call.
  func takeSeconds() -> Double { Double(nanoseconds.exchange(0, ordering: .relaxed)) / 1e9 }

  private func timed(_ body: () throws -> Void) throws {
    let start = DispatchTime.now().uptimeNanoseconds
    defer { nanoseconds.add(DispatchTime.now().uptimeNanoseconds - start, ordering: .relaxed) }
    try body()
  }
}
