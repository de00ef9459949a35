import Datasets
import Tensors
import XCTest

/// `file` damaged 1 to 4 times past its first `start` bytes: a bit flipped, a byte set, a
/// byte inserted, up to 8 bytes cut out, or (with `truncating`) the rest cut off.
func damaged(_ file: [UInt8], after start: Int, truncating: Bool, _ rng: inout SeededRandom) -> [UInt8] {
  var bytes = file
  for _ in 0..<(1 + rng.nextInt(below: 4)) where bytes.count > start {
    let at = start + rng.nextInt(below: bytes.count - start)
    switch rng.nextInt(below: truncating ? 5 : 4) {
    case 0: bytes[at] ^= UInt8(1 << rng.nextInt(below: 8))
    case 1: bytes[at] = UInt8(rng.nextInt(below: 256))
    case 2: bytes.insert(UInt8(rng.nextInt(below: 256)), at: at)
    case 3: bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.nextInt(below: 8)))
    default: bytes = Array(bytes.prefix(at))
    }
  }
  return bytes
}

/// What a decoder made of damaged files: how many decoded (to a consistent image) and how
/// many were refused with an `ImageFileError`, and the kinds of message (their first words).
struct DecodeTally {
  var decoded = 0, refused = 0
  var messages = Set<String>()

  /// Decodes one file; any error other than an `ImageFileError` is thrown on.
  mutating func record(_ decode: () throws -> PixelImage) throws {
    do {
      let image = try decode()
      guard image.pixels.count == image.width * image.height * image.channels else {
        throw ImageFileError("an inconsistent image")
      }
      decoded += 1
    } catch let error as ImageFileError {
      messages.insert(String(error.description.prefix(30)))
      refused += 1
    }
  }

  /// Prints the tally and checks it: every one of `trials` files decoded or refused, at least
  /// `minimumRefused` refused, by more than 10 different checks.
  func check(_ label: String, trials: Int, minimumRefused: Int, file: StaticString = #filePath, line: UInt = #line) {
    print("\(label): \(decoded) decoded, \(refused) refused; \(messages.count) kinds")
    XCTAssertEqual(decoded + refused, trials, file: file, line: line)
    XCTAssertGreaterThan(refused, minimumRefused, file: file, line: line)
    XCTAssertGreaterThan(
      messages.count, 10, "the errors reach many different checks: \(messages.sorted())", file: file, line: line)
  }
}
