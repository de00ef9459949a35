import Foundation
import Synchronization

/// Hands out the column slices of a large product (see `gemmBlocked`), then the row blocks of
/// slices already started, to whichever thread asks: a thread takes a slice, packs its part of
/// B, publishes it with `packed`, and runs the slice's row blocks one at a time; when no slice
/// is left, it takes row blocks left in the others' slices, reading their packed B. Which
/// thread runs a row block never changes what it computes, so results do not depend on it.
///
/// A slice's packed B lives in its packer's scratch; the packer asks for that scratch again
/// only when it takes another slice, which no thread does once row blocks are handed out of
/// others' slices.
package final class SliceQueue: Sendable {
  private struct State {
    var nextSlice = 0
    var nextRowBlock: [Int]
    /// Each taken slice's packed B, as an address; nil while it is being packed.
    var packs: [UInt?]
  }
  private let slices: Int
  private let rowBlocks: Int
  private let state: Mutex<State>

  package init(slices: Int, rowBlocks: Int) {
    precondition(slices >= 0 && rowBlocks >= 0, "negative slice or row-block count")
    self.slices = slices
    self.rowBlocks = rowBlocks
    state = Mutex(
      State(nextRowBlock: [Int](repeating: 0, count: slices), packs: [UInt?](repeating: nil, count: slices)))
  }

  /// The next slice for the caller to pack, or nil when all are taken.
  package func takeSlice() -> Int? {
    state.withLock { state in
      guard state.nextSlice < slices else { return nil }
      state.nextSlice += 1
      return state.nextSlice - 1
    }
  }

  /// Slice `s`'s B is packed at `pack`, where other threads may read it.
  package func packed(_ s: Int, _ pack: UnsafeMutablePointer<Float>) {
    state.withLock { state in
      precondition(
        s >= 0 && s < state.nextSlice && state.packs[s] == nil, "slice \(s) was not taken, or is packed already")
      state.packs[s] = UInt(bitPattern: pack)
    }
  }

  /// The next row block of slice `s`, or nil when all are taken.
  package func takeRowBlock(of s: Int) -> Int? {
    state.withLock { state in
      precondition(s >= 0 && s < state.nextSlice, "slice \(s) was not taken")
      guard state.nextRowBlock[s] < rowBlocks else { return nil }
      state.nextRowBlock[s] += 1
      return state.nextRowBlock[s] - 1
    }
  }

  /// A row block left in a packed slice (the one with the most left), with that slice's
  /// packed B; nil when none is left. While a slice is still being packed, waits for it.
  package func stealRowBlock() -> (slice: Int, rowBlock: Int, pack: UnsafePointer<Float>)? {
    while true {
      let (taken, waiting) = state.withLock { state -> ((Int, Int, UInt)?, Bool) in
        var best = -1
        for s in 0..<state.nextSlice where state.packs[s] != nil && state.nextRowBlock[s] < rowBlocks {
          if best < 0 || state.nextRowBlock[s] < state.nextRowBlock[best] { best = s }
        }
        guard best >= 0, let pack = state.packs[best] else {
          return (nil, state.packs[0..<state.nextSlice].contains(nil))
        }
        state.nextRowBlock[best] += 1
        return ((best, state.nextRowBlock[best] - 1, pack), false)
      }
      if let (slice, rowBlock, address) = taken, let pack = UnsafePointer<Float>(bitPattern: address) {
        return (slice, rowBlock, pack)
      }
      // A slice being packed (tens of microseconds) may still have row blocks for us.
      if !waiting { return nil }
    }
  }
}
