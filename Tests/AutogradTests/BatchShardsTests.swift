import Autograd
import Tensors
import XCTest

/// The shards of a batch and their tree sums: what makes N processes give one process's bits.
final class BatchShardsTests: XCTestCase {
  func testShardsAndProcessesPartitionTheBatch() {
    XCTAssertEqual(
      [0, 1, 32, 63, 64, 128, 511, 512, 1024, 4096].map(BatchShards.count(forBatch:)),
      [1, 1, 1, 1, 2, 4, 8, 16, 16, 16])
    for batch in [32, 128, 1024] {
      let count = BatchShards.count(forBatch: batch)
      XCTAssertEqual(
        (1...17).filter { BatchShards.supports(processes: $0, batchSize: batch) },
        [1, 2, 4, 8, 16].filter { $0 <= count })
      // The last batch of an epoch may be smaller: it is cut into as many shards.
      for size in [0, 1, 5, 15, 16, batch] {
        for n in [1, 2, 4, 8, 16] where n <= count {
          var first = 0
          for rank in 0..<n {
            let held = BatchShards(
              globalSize: size, count: count, held: BatchShards.held(rank: rank, of: n, shards: count), group: nil)
            XCTAssertEqual(held.heldExamples.lowerBound, first, "rank \(rank) of \(n), batch \(size) of \(batch)")
            XCTAssertEqual(held.ranges.map(\.count).reduce(0, +), held.localSize)
            first = held.heldExamples.upperBound
          }
          XCTAssertEqual(first, size)
        }
      }
    }
  }

  /// Each process's subtree, then the processes' sums as a tree: the whole tree, bit for bit.
  func testTreeOfSubtreesIsTheWholeTree() {
    let n = 37
    var rows: [[Double]] = []
    for s in 0..<16 {
      rows.append((0..<n).map { j in Double(s * 31 + j).squareRoot() * (j % 3 == 0 ? 1e8 : 1e-3) })
    }
    let whole = treeSum(rows)
    for processes in [2, 4, 8, 16] {
      let subtrees = (0..<processes).map { p in
        treeSum(Array(rows[BatchShards.held(rank: p, of: processes, shards: 16)]))
      }
      XCTAssertEqual(treeSum(subtrees), whole, "\(processes) processes")
    }
    // A plain sum in order rounds differently: the test can tell the orders apart.
    let inOrder = rows.dropFirst().reduce(rows[0]) { zip($0, $1).map(+) }
    XCTAssertNotEqual(inOrder, whole)
    rows.swapAt(0, 5)
    XCTAssertNotEqual(treeSum(rows), whole)
  }

  /// The kernel and bias gradients of a convolution (direct and Winograd) and of a dense
  /// layer on a whole batch equal the tree sum of each process's gradients on its shards.
  func testParameterGradientsSplitByProcess() throws {
    let x = randomTensor([137, 6, 6, 8], seed: 1)
    let kernel = randomTensor([3, 3, 8, 16], seed: 2)
    let bias = randomTensor([16], seed: 3)
    let dense = randomTensor([6 * 6 * 16, 5], seed: 4)
    for algorithm in [ConvolutionAlgorithm.direct, .winograd(.f2), .winograd(.f4)] {
      let whole = try gradients(x, kernel, bias, dense, algorithm, shards: nil)
      for processes in [2, 4] {
        var parts: [[Tensor]] = []
        for rank in 0..<processes {
          let count = BatchShards.count(forBatch: x.shape[0])
          let shards = BatchShards(
            globalSize: x.shape[0], count: count, held: BatchShards.held(rank: rank, of: processes, shards: count),
            group: nil)
          let mine = try slice(x, shards.heldExamples)
          parts.append(try gradients(mine, kernel, bias, dense, algorithm, shards: shards))
        }
        for (i, name) in ["conv kernel", "conv bias", "dense kernel", "dense bias"].enumerated() {
          let summed = tree(parts.map { $0[i].scalars })
          XCTAssertEqual(summed, whole[i].scalars, "\(name), \(algorithm), \(processes) processes")
        }
      }
    }
  }

  /// Conv → dense → cross-entropy on `x`: the four parameter gradients.
  private func gradients(
    _ x: Tensor, _ kernel: Tensor, _ bias: Tensor, _ denseKernel: Tensor, _ algorithm: ConvolutionAlgorithm,
    shards: BatchShards?
  ) throws -> [Tensor] {
    let tape = Tape(shards: shards)
    let params = [kernel, bias, denseKernel, Tensor(zeros: [5])].map { Variable($0.copy(), requiresGrad: true) }
    let y = try conv2d(
      tape.input(x), kernel: params[0], bias: params[1], padding: .same, activation: .relu, algorithm: algorithm)
    let logits = try dense(reshape(y, to: [x.shape[0], 6 * 6 * 16]), kernel: params[2], bias: params[3])
    let first = shards?.heldExamples.lowerBound ?? 0
    let labels = (first..<(first + x.shape[0])).map { $0 % 5 }
    try tape.backward(try softmaxCrossEntropy(logits: logits, labels: labels))
    return params.map { $0.grad! }
  }

  /// The processes' partial sums as the tree's top levels, in Float as the exchange adds them.
  private func tree(_ rows: [[Float]]) -> [Float] {
    if rows.count == 1 { return rows[0] }
    let half = rows.count / 2
    return zip(tree(Array(rows[..<half])), tree(Array(rows[half...]))).map(+)
  }

  private func slice(_ x: Tensor, _ images: Range<Int>) throws -> Tensor {
    let size = x.count / x.shape[0]
    return try Tensor(
      shape: [images.count] + x.shape.dropFirst(),
      values: Array(x.scalars[(images.lowerBound * size)..<(images.upperBound * size)]))
  }
}
