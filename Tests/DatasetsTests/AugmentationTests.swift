import Datasets
import Tensors
import XCTest

/// Augmentation on the fly: the shift and mirror by hand, draws fixed by (seed, epoch, index),
/// the recipe's alternating flips, cutout, and bad settings.
final class AugmentationTests: XCTestCase {
  func shifted(_ values: [Float], _ h: Int, _ w: Int, dy: Int, dx: Int, mirror: Bool) -> [Float] {
    var out = [Float](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        shiftImage(
          src.baseAddress!, dst.baseAddress!, height: h, width: w, channels: 1, dy: dy, dx: dx, mirror: mirror)
      }
    }
    return out
  }

  func testShiftReflectsWithoutRepeatingTheEdge() {
    let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    XCTAssertEqual(shifted(image, 3, 3, dy: 1, dx: 0, mirror: false), [4, 5, 6, 7, 8, 9, 4, 5, 6])
    XCTAssertEqual(shifted(image, 3, 3, dy: 0, dx: -1, mirror: false), [2, 1, 2, 5, 4, 5, 8, 7, 8])
    XCTAssertEqual(shifted(image, 3, 3, dy: 0, dx: 0, mirror: true), [3, 2, 1, 6, 5, 4, 9, 8, 7])
    XCTAssertEqual(shifted(image, 3, 3, dy: -2, dx: 2, mirror: false), [9, 8, 7, 6, 5, 4, 3, 2, 1])
  }

  func dataset(_ n: Int) throws -> ImageDataset {
    var rng = SeededRandom(seed: 3)
    let images = (0..<(n * 8 * 8 * 3)).map { _ in UInt8(rng.nextInt(below: 256)) }
    return try ImageDataset(
      images: images, labels: [UInt8](repeating: 0, count: n), height: 8, width: 8, channels: 3, classNames: ["a"])
  }

  func images(_ d: ImageDataset, _ a: Augmentation, epoch: Int, batch: Int = 5, seed: UInt64 = 1) -> [[Float]] {
    d.batches(size: batch, seed: seed, epoch: epoch, shuffle: false, augmentation: a).flatMap { images, _ in
      stride(from: 0, to: images.count, by: d.imageSize).map { Array(images.scalars[$0..<($0 + d.imageSize)]) }
    }
  }

  func testDrawsDependOnSeedEpochAndIndexOnly() throws {
    let d = try dataset(12)
    let a = Augmentation(translate: 2, flip: .random, cutout: 3)
    let first = images(d, a, epoch: 1)
    XCTAssertEqual(first, images(d, a, epoch: 1, batch: 7), "the same with another batch size")
    XCTAssertNotEqual(first, images(d, a, epoch: 2))
    XCTAssertNotEqual(first, images(d, a, epoch: 1, seed: 2))
    XCTAssertEqual(images(d, .none, epoch: 1), images(d, .none, epoch: 2))
    let plain = images(d, .none, epoch: 1)
    // Every translated and mirrored image is one of the 50 shifts of its original.
    let shiftOnly = Augmentation(translate: 2, flip: .random)
    for (i, image) in images(d, shiftOnly, epoch: 3).enumerated() {
      let found = (-2...2).contains { dy in
        (-2...2).contains { dx in
          [false, true].contains { m in
            image == channelsShifted(plain[i], dy: dy, dx: dx, mirror: m)
          }
        }
      }
      XCTAssertTrue(found, "image \(i)")
    }
  }

  func channelsShifted(_ image: [Float], dy: Int, dx: Int, mirror: Bool) -> [Float] {
    var out = [Float](repeating: 0, count: image.count)
    image.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        shiftImage(src.baseAddress!, dst.baseAddress!, height: 8, width: 8, channels: 3, dy: dy, dx: dx, mirror: mirror)
      }
    }
    return out
  }

  func testAlternatingFlipsEachImageEveryOtherEpoch() throws {
    let d = try dataset(40)
    let plain = images(d, .none, epoch: 1)
    let a = Augmentation(flip: .alternating)
    var flippedInEpoch1 = 0
    for epoch in 1...4 {
      for (i, image) in images(d, a, epoch: epoch).enumerated() {
        let mirrored = image == channelsShifted(plain[i], dy: 0, dx: 0, mirror: true)
        XCTAssertTrue(mirrored || image == plain[i])
        let firstEpochMirrored = images(d, a, epoch: 1)[i] != plain[i]
        XCTAssertEqual(mirrored, epoch % 2 == 1 ? firstEpochMirrored : !firstEpochMirrored, "image \(i)")
        if epoch == 1 && mirrored { flippedInEpoch1 += 1 }
      }
    }
    XCTAssertTrue((10...30).contains(flippedInEpoch1), "\(flippedInEpoch1) of 40 in epoch 1")
  }

  func testCutoutZeroesASquare() throws {
    let white = try ImageDataset(
      images: [UInt8](repeating: 255, count: 10 * 8 * 8 * 3), labels: [UInt8](repeating: 0, count: 10), height: 8,
      width: 8, channels: 3, classNames: ["a"])
    for image in images(white, Augmentation(cutout: 4), epoch: 1) {
      let zeros = image.filter { $0 == 0 }.count
      XCTAssertTrue(zeros > 0 && zeros <= 16 * 3 && zeros % 3 == 0, "\(zeros)")
    }
  }

  func testBadSettings() {
    XCTAssertThrowsError(try Augmentation(translate: 8).validate(height: 8, width: 8))
    XCTAssertThrowsError(try Augmentation(translate: -1).validate(height: 8, width: 8))
    XCTAssertThrowsError(try Augmentation(cutout: -2).validate(height: 8, width: 8))
    XCTAssertNoThrow(try Augmentation(translate: 7, cutout: 8).validate(height: 8, width: 8))
  }
}
