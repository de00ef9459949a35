/// A seeded random number generator (xoshiro256**, seeded through SplitMix64).
/// The same seed gives the same numbers on every machine and Swift version, unlike
/// `SystemRandomNumberGenerator` or the standard library's `shuffle`.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

  public init(seed: UInt64) {
    var s = seed
    func splitMix(_ x: inout UInt64) -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(&s), splitMix(&s), splitMix(&s), splitMix(&s))
  }

  /// Restores a generator from a saved `state` (for resuming a run exactly).
  public init(state: (UInt64, UInt64, UInt64, UInt64)) { self.state = state }

  public mutating func next() -> UInt64 {
    let result = rotl(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotl(state.3, 45)
    return result
  }

  private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// Uniform in [0, 1), from the top 24 bits.
  public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  /// Uniform in [low, high).
  public mutating func uniform(_ low: Float, _ high: Float) -> Float {
    low + (high - low) * nextFloat()
  }

  /// Uniform integer in 0..<bound, without modulo bias.
  public mutating func nextInt(below bound: Int) -> Int {
    precondition(bound > 0)
    let b = UInt64(bound)
    let limit = UInt64.max - UInt64.max % b
    while true {
      let r = next()
      if r < limit { return Int(r % b) }
    }
  }

  /// A Fisher–Yates permutation of 0..<n, identical everywhere for the same state.
  public mutating func permutation(_ n: Int) -> [Int] {
    var p = Array(0..<n)
    var i = n - 1
    while i > 0 {
      let j = nextInt(below: i + 1)
      p.swapAt(i, j)
      i -= 1
    }
    return p
  }
}

/// FNV-1a over `raw`, 8 bytes at a time (the tail byte by byte), continuing from `hash`: a
/// fingerprint of data, for comparing copies of it.
package func fnv1a(_ raw: UnsafeRawBufferPointer, continuing hash: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
  var h = hash
  let words = raw.count / 8
  for i in 0..<words { h = (h ^ raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* 0x100_0000_01b3 }
  for i in (words * 8)..<raw.count { h = (h ^ UInt64(raw[i])) &* 0x100_0000_01b3 }
  return h
}
