import Datasets
import Tensors
import XCTest

final class ImageDatasetTests: XCTestCase {
  func dataset(_ n: Int) throws -> ImageDataset {
    // Image i is one pixel of value i with label i % 3.
    try ImageDataset(
      images: (0..<n).map { UInt8($0) }, labels: (0..<n).map { UInt8($0 % 3) }, height: 1, width: 1, channels: 1,
      classNames: ["a", "b", "c"])
  }

  func testBatchesCoverTheEpochInOrder() throws {
    let ds = try dataset(10)
    let batches = ds.batches(size: 4, seed: 3, epoch: 1)
    XCTAssertEqual(batches.count, 3)
    let all = Array(batches)
    XCTAssertEqual(all.map { $0.labels.count }, [4, 4, 2])
    let order = ds.epochOrder(seed: 3, epoch: 1)
    let pixels = all.flatMap { $0.images.scalars.map { Int(($0 * 255).rounded()) } }
    XCTAssertEqual(pixels, order)
    XCTAssertEqual(all.flatMap(\.labels), order.map { $0 % 3 })
    XCTAssertEqual(all[0].images.shape, [4, 1, 1, 1])
  }

  func testValidationAndPrefix() throws {
    XCTAssertThrowsError(
      try ImageDataset(images: [1, 2, 3], labels: [0, 1], height: 1, width: 1, channels: 1, classNames: ["a", "b"]))
    XCTAssertThrowsError(
      try ImageDataset(images: [1, 2], labels: [0, 2], height: 1, width: 1, channels: 1, classNames: ["a", "b"])
    ) {
      XCTAssertTrue("\($0)".contains("label 2 of image 1"), "\($0)")
    }
    let p = try dataset(10).prefix(4)
    XCTAssertEqual(p.count, 4)
    XCTAssertEqual(p.images, [0, 1, 2, 3])
    XCTAssertEqual(try dataset(3).prefix(99).count, 3)
  }
}
