import Foundation

/// Raw float buffers for tensors and scratch: 64-byte aligned (a cache line, one AVX-512
/// vector). Buffers of 2 MiB or more are aligned to 2 MiB and rounded up to whole 2 MiB
/// pages, and on Linux asked to be backed by transparent huge pages: a 1024×1024 product
/// touches 4096 pages of 4 KiB, more than the TLB holds.
enum Memory {
  static let hugePage = 2 << 20

  static func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    let bytes = max(count, 1) * 4
    guard bytes >= hugePage else {
      return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(count, 1))
    }
    let rounded = (bytes + hugePage - 1) / hugePage * hugePage
    let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: hugePage)
    #if os(Linux)
      _ = madvise(raw, rounded, MADV_HUGEPAGE)  // advice only: without it, 4 KiB pages
    #endif
    return raw.bindMemory(to: Float.self, capacity: rounded / 4)
  }

  static func free(_ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).deallocate()
  }
}
