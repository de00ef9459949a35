import Tensors

// Random draws of the ops that are random in training (dropout, random mixed pooling). A draw
// hashes the layer's seed, the bits of the image it falls on, and its place in that image:
// the draws change at every step as the weights (and so the images' activations) do, yet a
// run is reproducible from its seed, independent of the thread count, and a resumed run
// draws exactly as an uninterrupted one, with no generator state to save.

/// A 64-bit hash of each image (first axis) of `x`: FNV-1a over the bits of its values.
func imageHashes(_ x: Tensor) -> [UInt64] {
  let images = x.shape.first ?? 1
  let size = images == 0 ? 0 : x.count / images
  let xp = x.data
  var hashes = [UInt64](repeating: 0, count: images)
  hashes.withUnsafeMutableBufferPointer { out in
    parallelFor(images) { n in
      var h: UInt64 = 0xcbf2_9ce4_8422_2325
      for i in 0..<size { h = (h ^ UInt64(xp[n * size + i].bitPattern)) &* 0x100_0000_01b3 }
      out[n] = h
    }
  }
  return hashes
}

/// 64 pseudo-random bits from a seed, an image's hash and two indices (SplitMix64's
/// finaliser over their mix).
@inline(__always)
func randomBits(_ seed: UInt64, _ image: UInt64, _ index: Int, _ channel: Int = 0) -> UInt64 {
  var z = seed &+ image &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
  z = z &+ UInt64(truncatingIfNeeded: channel) &* 0x8CB9_2BA7_2F3D_8DD7
  z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
  z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
  return z ^ (z >> 31)
}

/// One pseudo-random bit (see `randomBits`).
@inline(__always)
func randomBit(_ seed: UInt64, _ image: UInt64, _ index: Int, _ channel: Int) -> Bool {
  randomBits(seed, image, index, channel) >> 63 == 1
}

/// A pseudo-random number in [0, 1) with 24 random bits (see `randomBits`).
@inline(__always)
func randomUnit(_ seed: UInt64, _ image: UInt64, _ index: Int) -> Float {
  Float(randomBits(seed, image, index) >> 40) * 0x1p-24
}
