import Foundation

/// Hands out the column slices of a large product (see `gemmBlocked`), then the row blocks of
/// slices already started, to whichever thread asks: a thread takes a slice, packs its part of
/// B, publishes it with `packed`, and runs the slice's row blocks one at a time; when no slice
/// is left, it takes row blocks left in the others' slices, reading their packed B. Which
/// thread runs a row block never changes what it computes, so results do not depend on it.
///
/// A slice's packed B lives in its packer's scratch; the packer asks for that scratch again
/// only when it takes another slice, which no thread does once row blocks are handed out of
/// others' slices.
package final class SliceQueue: @unchecked Sendable {
  private let lock = NSLock()
  private let slices: Int
  private let rowBlocks: Int
  private var nextSlice = 0
  private var nextRowBlock: [Int]
  /// Each taken slice's packed B; nil while it is being packed.
  private var packs: [UnsafePointer<Float>?]

  package init(slices: Int, rowBlocks: Int) {
    precondition(slices >= 0 && rowBlocks >= 0, "negative slice or row-block count")
    self.slices = slices
    self.rowBlocks = rowBlocks
    nextRowBlock = [Int](repeating: 0, count: slices)
    packs = [UnsafePointer<Float>?](repeating: nil, count: slices)
  }

  /// The next slice for the caller to pack, or nil when all are taken.
  package func takeSlice() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard nextSlice < slices else { return nil }
    nextSlice += 1
    return nextSlice - 1
  }

  /// Slice `s`'s B is packed at `pack`, where other threads may read it.
  package func packed(_ s: Int, _ pack: UnsafeMutablePointer<Float>) {
    lock.lock()
    defer { lock.unlock() }
    precondition(s >= 0 && s < nextSlice && packs[s] == nil, "slice \(s) was not taken, or is packed already")
    packs[s] = UnsafePointer(pack)
  }

  /// The next row block of slice `s`, or nil when all are taken.
  package func takeRowBlock(of s: Int) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    precondition(s >= 0 && s < nextSlice, "slice \(s) was not taken")
    guard nextRowBlock[s] < rowBlocks else { return nil }
    nextRowBlock[s] += 1
    return nextRowBlock[s] - 1
  }

  /// A row block left in a packed slice (the one with the most left), with that slice's
  /// packed B; nil when none is left. While a slice is still being packed, waits for it.
  package func stealRowBlock() -> (slice: Int, rowBlock: Int, pack: UnsafePointer<Float>)? {
    while true {
      lock.lock()
      var best = -1
      for s in 0..<nextSlice where packs[s] != nil && nextRowBlock[s] < rowBlocks {
        if best < 0 || nextRowBlock[s] < nextRowBlock[best] { best = s }
      }
      if best >= 0 {
        nextRowBlock[best] += 1
        let taken = (best, nextRowBlock[best] - 1, packs[best]!)
        lock.unlock()
        return taken
      }
      let waiting = packs[0..<nextSlice].contains(nil)
      lock.unlock()
      // A slice being packed (tens of microseconds) may still have row blocks for us.
      if !waiting { return nil }
    }
  }
}
