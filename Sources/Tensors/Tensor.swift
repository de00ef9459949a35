import Foundation
import Synchronization

/// Float32 storage behind a raw, 64-byte aligned pointer. When the last tensor viewing it
/// goes away its memory returns to `StoragePool`, so the same-sized buffers of the next
/// training step are reused instead of allocated. Kernels take `pointer` once and loop over
/// it: no `[Float]` in hot loops.
///
/// Unchecked: the memory behind `pointer` is shared on purpose, between the views of a tensor
/// and the threads of a parallel kernel, each of which writes a range of its own; Swift cannot
/// check that, only the kernels' partitions do.
package final class TensorStorage: @unchecked Sendable {
  package let pointer: UnsafeMutablePointer<Float>
  package let count: Int

  package init(count: Int, zeroed: Bool = true) {
    precondition(count >= 0, "negative element count")
    self.count = count
    pointer = StoragePool.take(count)
    if zeroed { pointer.update(repeating: 0, count: count) }
  }

  deinit { StoragePool.give(pointer, count) }
}

/// Freed tensor buffers, by element count, up to `capacityBytes` in all; beyond that they
/// are released to the system. A training step frees and allocates the same sizes every
/// step, so with the pool large enough to hold one step's buffers, no step after the first
/// asks the system for memory (whose fresh pages the kernel must zero on first touch).
package enum StoragePool {
  /// The free buffers' addresses by element count, and their bytes in all.
  private static let pool = Mutex<(free: [Int: [UInt]], heldBytes: Int)>(([:], 0))
  /// Only buffers of at least this many elements are pooled; smaller ones are cheap to
  /// allocate. (GEMM's per-task edge panels, 6×KC, are just above it.)
  static let minimumCount = 256
  /// An eighth of the machine's memory, at least 96 MiB: room for the activations of a wide
  /// network at batch 1024, without holding more than the step's own peak in steady state.
  package static let capacityBytes = max(96 << 20, Int(ProcessInfo.processInfo.physicalMemory / 8))

  static func take(_ count: Int) -> UnsafeMutablePointer<Float> {
    if count >= minimumCount {
      let address = pool.withLock { pool -> UInt? in
        guard let a = pool.free[count]?.popLast() else { return nil }
        pool.heldBytes -= count * 4
        return a
      }
      if let address, let p = UnsafeMutablePointer<Float>(bitPattern: address) { return p }
    }
    return Memory.allocateFloats(count)
  }

  static func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
    let address = UInt(bitPattern: p)
    let kept =
      count >= minimumCount
      && pool.withLock { pool in
        guard pool.heldBytes + count * 4 <= capacityBytes else { return false }
        pool.free[count, default: []].append(address)
        pool.heldBytes += count * 4
        return true
      }
    if !kept { Memory.free(p) }
  }

  /// Releases every pooled buffer.
  package static func drain() {
    let addresses = pool.withLock { pool in
      defer { pool = ([:], 0) }
      return Array(pool.free.values.joined())
    }
    for a in addresses { UnsafeMutablePointer<Float>(bitPattern: a).map(Memory.free) }
  }
}

/// The errors of the tensors module, thrown instead of trapping: shapes and values that do
/// not fit, files that cannot be read or written.
public struct TensorError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A dense, row-major Float32 tensor. Images are NHWC (batch, height, width, channels).
///
/// A tensor is a reference to its storage: `reshaped(to:)` returns a view of the same
/// numbers, and writing through `data` is seen by every view. Unchecked for the reason its
/// storage is (see `TensorStorage`).
public final class Tensor: @unchecked Sendable {
  public let shape: [Int]
  package let storage: TensorStorage

  /// Zeros of the given shape.
  public init(zeros shape: [Int]) {
    self.shape = shape
    storage = TensorStorage(count: Tensor.elementCount(shape))
  }

  /// Storage whose contents the caller overwrites in full before reading.
  public init(uninitialized shape: [Int]) {
    self.shape = shape
    storage = TensorStorage(count: Tensor.elementCount(shape), zeroed: false)
  }

  public init(shape: [Int], repeating value: Float) {
    self.shape = shape
    storage = TensorStorage(count: Tensor.elementCount(shape), zeroed: false)
    storage.pointer.initialize(repeating: value, count: storage.count)
  }

  /// A tensor holding `values` in row-major order; throws when the count does not match.
  public init(shape: [Int], values: [Float]) throws {
    let count = try Tensor.checkedCount(shape)
    guard count == values.count else {
      throw TensorError("shape \(shape) holds \(count) values, but \(values.count) were given")
    }
    self.shape = shape
    storage = TensorStorage(count: count, zeroed: false)
    for (i, v) in values.enumerated() { storage.pointer[i] = v }
  }

  init(shape: [Int], storage: TensorStorage) {
    self.shape = shape
    self.storage = storage
  }

  public var data: UnsafeMutablePointer<Float> { storage.pointer }
  public var count: Int { storage.count }
  public var rank: Int { shape.count }

  /// The values in row-major order, copied out.
  public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

  public subscript(index: Int) -> Float {
    get { data[index] }
    set { data[index] = newValue }
  }

  /// A view of the same storage with another shape of the same element count.
  public func reshaped(to newShape: [Int]) throws -> Tensor {
    guard try Tensor.checkedCount(newShape) == count else {
      throw TensorError("cannot reshape \(shape) (\(count) values) to \(newShape)")
    }
    return Tensor(shape: newShape, storage: storage)
  }

  /// A deep copy.
  public func copy() -> Tensor {
    let t = Tensor(uninitialized: shape)
    t.data.update(from: data, count: count)
    return t
  }

  /// The element count of a shape given by a caller: throws on a negative dimension.
  public static func checkedCount(_ shape: [Int]) throws -> Int {
    guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError("negative dimension in shape \(shape)") }
    return elementCount(shape)
  }

  public static func elementCount(_ shape: [Int]) -> Int {
    var n = 1
    for d in shape {
      precondition(d >= 0, "negative dimension in shape \(shape)")
      n *= d
    }
    return n
  }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let shown = scalars.prefix(16).map { String($0) }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(shown)\(count > 16 ? ", ..." : "")])"
  }
}
