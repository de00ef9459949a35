import Tensors

/// Training-time augmentation, computed on the fly as batches are made. Every image's draw
/// comes from (seed, epoch, the image's index in the dataset), never from the batch or the
/// thread, so a resumed run sees exactly the images an uninterrupted one would.
public struct Augmentation: Equatable, Sendable {
  /// How images are mirrored left to right.
  public enum Flip: Equatable, Sendable {
    case none
    /// Each image with probability 1/2, drawn anew every epoch.
    case random
    /// The fast recipe's scheme: a random half of the images (fixed for the run) in odd
    /// epochs (1, 3, ...), the other half in even ones, so that each image alternates.
    case alternating
  }

  /// The largest shift, in pixels, in each direction; the edges are filled by reflection
  /// (without repeating the edge pixel, as PyTorch's `reflect` padding).
  public var translate: Int
  public var flip: Flip
  /// The side of a square set to 0 at a random centre (clipped at the edges); 0 for none.
  public var cutout: Int

  public init(translate: Int = 0, flip: Flip = .none, cutout: Int = 0) {
    self.translate = translate
    self.flip = flip
    self.cutout = cutout
  }

  public static let none = Augmentation()

  /// Throws when the augmentation cannot apply to images of this size.
  public func validate(height: Int, width: Int) throws {
    guard translate >= 0, translate < height, translate < width else {
      throw DatasetError("translation must lie in 0 ..< \(Swift.min(height, width)) pixels, got \(translate)")
    }
    guard cutout >= 0, cutout <= Swift.max(height, width) else {
      throw DatasetError("cutout must lie in 0 ... \(Swift.max(height, width)) pixels, got \(cutout)")
    }
  }

  /// Applies this augmentation to one image (HWC floats) in place, for epoch `epoch` (1-based)
  /// and dataset index `index`. `scratch` holds at least one image.
  func apply(
    _ image: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, height: Int, width: Int,
    channels: Int, seed: UInt64, epoch: Int, index: Int
  ) {
    var rng = SeededRandom(
      seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
    let dy = translate > 0 ? rng.nextInt(below: 2 * translate + 1) - translate : 0
    let dx = translate > 0 ? rng.nextInt(below: 2 * translate + 1) - translate : 0
    var mirror = false
    switch flip {
    case .none: break
    case .random: mirror = rng.nextInt(below: 2) == 1
    case .alternating:
      var once = SeededRandom(seed: seed &+ 0xF11F &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
      mirror = (once.nextInt(below: 2) == 1) != (epoch % 2 == 0)
    }
    if dy != 0 || dx != 0 || mirror {
      scratch.update(from: image, count: height * width * channels)
      shiftImage(scratch, image, height: height, width: width, channels: channels, dy: dy, dx: dx, mirror: mirror)
    }
    if cutout > 0 {
      let (cy, cx) = (rng.nextInt(below: height), rng.nextInt(below: width))
      let top = Swift.max(0, cy - cutout / 2)
      let left = Swift.max(0, cx - cutout / 2)
      for y in top..<Swift.min(height, cy - cutout / 2 + cutout) {
        (image + (y * width + left) * channels).update(
          repeating: 0, count: (Swift.min(width, cx - cutout / 2 + cutout) - left) * channels)
      }
    }
  }
}

/// out(y, x) = in(reflect(y + dy), reflect(x + dx)), then mirrored left to right when
/// `mirror`: the image moved by (−dy, −dx) with reflected edges, as cropping a reflect-padded
/// image at offset (dy, dx) does. |dy| < height and |dx| < width.
package func shiftImage(
  _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int,
  dy: Int, dx: Int, mirror: Bool
) {
  @inline(__always) func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
  for y in 0..<height {
    let sy = reflect(y + dy, height)
    for x in 0..<width {
      let sx = reflect((mirror ? width - 1 - x : x) + dx, width)
      (output + (y * width + x) * channels).update(from: input + (sy * width + sx) * channels, count: channels)
    }
  }
}
