import Datasets
import Foundation
import Tensors
import XCTest

final class ImageFolderTests: XCTestCase {
  private var root = ""

  override func setUpWithError() throws {
    root = NSTemporaryDirectory() + "image-folder-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

  /// A gray PNG of `height`×`width` filled with `value`, at root/class/name.
  private func write(_ className: String, _ name: String, value: UInt8, height: Int = 2, width: Int = 3) throws {
    let folder = root + "/" + className
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let rows: [UInt8] = (0..<height).flatMap { _ in [UInt8(0)] + [UInt8](repeating: value, count: width) }
    let file = pngFile(width: width, height: height, depth: 8, colorType: 0, rows: rows)
    try Data(file).write(to: URL(fileURLWithPath: folder + "/" + name))
  }

  /// Classes are the sorted folder names, labels follow them, gray becomes RGB, other files
  /// and hidden ones are skipped; a size resizes every image.
  func testLoadsClassesInOrder() throws {
    try write("zebra", "a.png", value: 10)
    try write("ant", "b.png", value: 200)
    try write("ant", "c.PNG", value: 100)
    try "not an image".write(toFile: root + "/ant/notes.txt", atomically: true, encoding: .utf8)
    try write("ant", ".hidden.png", value: 1)
    let data = try ImageFolder.load(directory: root)
    XCTAssertEqual(data.classNames, ["ant", "zebra"])
    XCTAssertEqual(data.labels, [0, 0, 1])
    XCTAssertEqual(data.imageShape, [2, 3, 3])
    XCTAssertEqual(Array(data.images.prefix(3)), [200, 200, 200])
    XCTAssertEqual(Array(data.images.suffix(3)), [10, 10, 10])
    let small = try ImageFolder.load(directory: root, size: (1, 1), channels: 1)
    XCTAssertEqual(small.images, [200, 100, 10])
  }

  /// Clear errors naming the folder or file: no classes, an empty class, a damaged file,
  /// images of different sizes.
  func testErrorsNameTheCulprit() throws {
    XCTAssertThrowsError(try ImageFolder.load(directory: root)) {
      XCTAssertTrue("\($0)".contains("no class subfolders"), "\($0)")
    }
    try write("cat", "a.png", value: 1)
    try FileManager.default.createDirectory(atPath: root + "/dog", withIntermediateDirectories: true)
    XCTAssertThrowsError(try ImageFolder.load(directory: root)) {
      XCTAssertTrue("\($0)".contains("/dog' holds no"), "\($0)")
    }
    try write("dog", "b.png", value: 1, height: 4)
    XCTAssertThrowsError(try ImageFolder.load(directory: root)) {
      XCTAssertTrue("\($0)".contains("dog/b.png' is 4x3, the first image 2x3"), "\($0)")
    }
    XCTAssertEqual(try ImageFolder.load(directory: root, size: (2, 3)).count, 2)
    try Data([137, 80, 78, 71, 1, 2]).write(to: URL(fileURLWithPath: root + "/dog/c.png"))
    XCTAssertThrowsError(try ImageFolder.load(directory: root, size: (2, 3))) {
      XCTAssertTrue("\($0)".contains("dog/c.png'"), "\($0)")
    }
    XCTAssertThrowsError(try ImageFolder.load(directory: root + "/missing"))
  }

  /// The held-out part takes the fraction of each class, is drawn from the seed, and the two
  /// parts together are the whole.
  func testSplitHoldsOutEachClass() throws {
    let labels: [UInt8] = Array(repeating: 0, count: 10) + Array(repeating: 1, count: 5)
    let data = try ImageDataset(
      images: (0..<15).map { UInt8($0) }, labels: labels, height: 1, width: 1, channels: 1, classNames: ["a", "b"])
    let (kept, held) = try data.split(holdingOut: 0.2, seed: 3)
    XCTAssertEqual(held.labels.filter { $0 == 0 }.count, 2)
    XCTAssertEqual(held.labels.filter { $0 == 1 }.count, 1)
    XCTAssertEqual(Set(kept.images + held.images), Set(data.images))
    XCTAssertEqual(try data.split(holdingOut: 0.2, seed: 3).1.images, held.images)
    XCTAssertThrowsError(try data.split(holdingOut: 1.5, seed: 3))
  }
}
