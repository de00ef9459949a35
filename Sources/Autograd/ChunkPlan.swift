// How a convolution cuts a batch into chunks of images, and groups the chunks whose kernel
// gradients it sums together.

/// The images of a batch in chunks whose im2col rows take at most about 512 KiB, so that a
/// chunk stays in a core's L2 cache, but of at least `minimumRows` rows (wide layers on small
/// images: fewer rows would make each chunk's products too thin to run near the peak). The
/// number of chunks is a multiple of 4 (at most the batch), so 1, 2 or 4 threads share them
/// evenly; it depends on the shape alone.
package func imageChunks(batch: Int, bytesPerImage: Int, rowsPerImage: Int = 1, minimumRows: Int = 1)
  -> [Range<Int>]
{
  guard batch > 0 else { return [] }
  let fewest = (minimumRows + max(1, rowsPerImage) - 1) / max(1, rowsPerImage)
  let perChunk = max(1, fewest, (512 << 10) / max(1, bytesPerImage))
  let count = min(batch, ((batch + perChunk - 1) / perChunk + 3) / 4 * 4)
  return (0..<count).map { i in (i * batch / count)..<((i + 1) * batch / count) }
}

/// A batch's chunks of images, shard by shard, and the groups of consecutive chunks whose
/// kernel gradients are summed together, each group's chunks in order into its own partial
/// sum. A shard's chunks are cut into `groupsPerShard` groups (fewer if it has fewer chunks):
/// as many as keep a batch's groups near `groupsPerBatch` (16, or 8 of the larger Winograd
/// sums), so that the threads share the work. A shard's groups are added in order and the
/// shards' as a tree; the plan depends on the shapes and the batch's size alone, so the sums
/// come out the same with any number of threads or processes.
struct ChunkPlan {
  private(set) var chunks: [Range<Int>] = []
  /// The chunks of each held shard and of each group (indices into `chunks`).
  private(set) var shardChunks: [Range<Int>] = []
  private(set) var groupChunks: [Range<Int>] = []
  /// The groups of each held shard (indices into `groupChunks`), and each group's shard.
  private(set) var shardGroups: [Range<Int>] = []
  private(set) var groupShard: [Int] = []
  let groupsPerShard: Int

  /// `chunksOf(n)`: the chunks of a run of n images.
  init(_ shards: BatchShards, groupsPerBatch: Int, chunksOf: (Int) -> [Range<Int>]) {
    groupsPerShard = max(1, groupsPerBatch / shards.count)
    for (s, shard) in shards.ranges.enumerated() {
      let own = chunksOf(shard.count)
      let first = chunks.count
      let groups = min(own.count, groupsPerShard)
      shardGroups.append(groupChunks.count..<(groupChunks.count + groups))
      for i in 0..<groups {
        groupChunks.append((first + own.count * i / groups)..<(first + own.count * (i + 1) / groups))
        groupShard.append(s)
      }
      shardChunks.append(first..<(first + own.count))
      chunks += own.map { ($0.lowerBound + shard.lowerBound)..<($0.upperBound + shard.lowerBound) }
    }
  }
}
