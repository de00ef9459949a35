import Foundation

/// Per-thread scratch buffers for kernels that run on one thread: a GEMM's packed panels and
/// a column slice's C sums, a convolution chunk's im2col rows, outputs and gradients. Each
/// thread gets back the memory it used last time, still in its own core's cache; a buffer
/// from the shared `StoragePool` may come from the other core, and then every cache line
/// written costs a transfer between cores.
///
/// A slot's memory is valid until the same thread asks for that slot again, so a kernel must
/// not hand it to another thread or nest two uses of one slot.
package enum Scratch {
  package enum Slot: Int, CaseIterable {
    case packedA, packedB, columns, output, gradient, productC, transformed, tile, kernelSum
  }

  /// Floats for `slot` on the calling thread: at least `count`, 64-byte aligned, contents
  /// undefined. Grows as needed and is never shrunk (freed when the thread ends).
  package static func buffer(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
    let buffers: Buffers
    if let p = pthread_getspecific(key) {
      buffers = Unmanaged<Buffers>.fromOpaque(p).takeUnretainedValue()
    } else {
      buffers = Buffers()
      pthread_setspecific(key, Unmanaged.passRetained(buffers).toOpaque())
    }
    return buffers.pointer(slot.rawValue, count: count)
  }

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { p in
      if let p { Unmanaged<Buffers>.fromOpaque(p).release() }
    }
    precondition(status == 0, "pthread_key_create failed")
    return key
  }()

  private final class Buffers {
    var pointers = [UnsafeMutablePointer<Float>?](repeating: nil, count: Slot.allCases.count)
    var capacities = [Int](repeating: 0, count: Slot.allCases.count)

    func pointer(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
      if capacities[slot] < count || pointers[slot] == nil {
        if let old = pointers[slot] { Memory.free(old) }
        pointers[slot] = Memory.allocateFloats(count)
        capacities[slot] = count
      }
      return pointers[slot]!
    }

    deinit { for p in pointers { if let p { Memory.free(p) } } }
  }
}
