// Inflate (RFC 1951, DEFLATE) inside a zlib stream (RFC 1950), as PNG stores its pixels:
// stored, fixed-Huffman and dynamic-Huffman blocks. Every read is checked, so a damaged or
// hostile stream ends in an `InflateError`, never a trap; the output stops at a given size,
// so a small file cannot expand into gigabytes.

/// Why a zlib stream could not be inflated.
public struct InflateError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}

/// The bytes of a zlib stream, at most `limit` of them (more is an error).
func zlibDecompress(_ data: [UInt8], limit: Int) throws -> [UInt8] {
  guard data.count >= 6 else { throw InflateError("the zlib stream is \(data.count) bytes, too short") }
  let (cmf, flg) = (Int(data[0]), Int(data[1]))
  guard cmf & 0x0f == 8, cmf >> 4 <= 7 else { throw InflateError("the zlib stream is not deflate-compressed") }
  guard (cmf << 8 | flg) % 31 == 0 else { throw InflateError("the zlib header's check bits are wrong") }
  guard flg & 0x20 == 0 else { throw InflateError("the zlib stream needs a preset dictionary") }
  var reader = BitReader(data, start: 2)
  let out = try inflate(&reader, limit: limit)
  let end = reader.alignedByteOffset
  guard end + 4 <= data.count else { throw InflateError("the zlib stream ends before its checksum") }
  let stored = data[end..<(end + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
  guard stored == adler32(out) else { throw InflateError("the zlib checksum does not match the data") }
  return out
}

/// Adler-32 (RFC 1950) of `bytes`.
func adler32(_ bytes: [UInt8]) -> UInt32 {
  var (a, b): (UInt32, UInt32) = (1, 0)
  var i = 0
  while i < bytes.count {
    // 5,552 bytes keep the sums below 2³² before the modulo.
    let end = min(bytes.count, i + 5552)
    while i < end {
      a += UInt32(bytes[i])
      b += a
      i += 1
    }
    a %= 65521
    b %= 65521
  }
  return b << 16 | a
}

/// Little-endian bits of a byte array, least significant first, as DEFLATE packs them.
struct BitReader {
  private let data: [UInt8]
  private var position: Int
  private var buffer: UInt64 = 0
  private var count = 0

  init(_ data: [UInt8], start: Int) {
    self.data = data
    position = start
  }

  /// The next `n` (≤ 32) bits as a number, the first bit least significant.
  mutating func bits(_ n: Int) throws -> Int {
    while count < n {
      guard position < data.count else { throw InflateError("the compressed data ends early") }
      buffer |= UInt64(data[position]) << UInt64(count)
      position += 1
      count += 8
    }
    let value = Int(buffer & ((1 << UInt64(n)) - 1))
    buffer >>= UInt64(n)
    count -= n
    return value
  }

  /// Drops the bits up to the next byte boundary.
  mutating func alignToByte() {
    let drop = count % 8
    buffer >>= UInt64(drop)
    count -= drop
  }

  /// The offset of the next unread whole byte, after `alignToByte`.
  var alignedByteOffset: Int { position - count / 8 }

  /// `n` bytes straight from the stream (a stored block), after `alignToByte`.
  mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
    let start = alignedByteOffset
    guard n >= 0, start + n <= data.count else { throw InflateError("a stored block runs past the end of the data") }
    (buffer, count, position) = (0, 0, start + n)
    return data[start..<(start + n)]
  }
}

/// A canonical Huffman code (RFC 1951 §3.2.2), decoded bit by bit from the counts of codes of
/// each length: small alphabets, so no tables are needed.
struct Huffman {
  private var counts = [Int](repeating: 0, count: 16)
  private var symbols: [Int] = []

  /// The code for symbols 0..<lengths.count with these code lengths (0: unused).
  init(lengths: [Int]) throws {
    for l in lengths { counts[l] += 1 }
    counts[0] = 0
    var left = 1
    for l in 1..<16 {
      left = left * 2 - counts[l]
      guard left >= 0 else { throw InflateError("a Huffman code has more codes than its lengths allow") }
    }
    var offsets = [Int](repeating: 0, count: 16)
    for l in 1..<15 { offsets[l + 1] = offsets[l] + counts[l] }
    symbols = [Int](repeating: 0, count: lengths.count)
    for (symbol, l) in lengths.enumerated() where l != 0 {
      symbols[offsets[l]] = symbol
      offsets[l] += 1
    }
  }

  func decode(_ reader: inout BitReader) throws -> Int {
    var (code, first, index) = (0, 0, 0)
    for l in 1..<16 {
      code |= try reader.bits(1)
      let count = counts[l]
      if code >= first && code - first < count { return symbols[index + code - first] }
      index += count
      first = (first + count) << 1
      code <<= 1
    }
    throw InflateError("the compressed data holds an invalid Huffman code")
  }
}

private let lengthBase = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
]
private let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
private let distanceBase = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577,
]
private let distanceExtra = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
]

/// The raw DEFLATE blocks from `reader`, at most `limit` bytes.
func inflate(_ reader: inout BitReader, limit: Int) throws -> [UInt8] {
  var out: [UInt8] = []
  out.reserveCapacity(min(limit, 1 << 24))
  var last = false
  while !last {
    last = try reader.bits(1) == 1
    switch try reader.bits(2) {
    case 0:
      reader.alignToByte()
      let n = try reader.bits(16)
      guard try reader.bits(16) == n ^ 0xffff else { throw InflateError("a stored block's length check fails") }
      guard out.count + n <= limit else { throw InflateError("the data inflates past the expected \(limit) bytes") }
      out += try reader.bytes(n)
    case 1:
      try inflateBlock(&reader, &out, limit: limit, fixedCodes.literals, fixedCodes.distances)
    case 2:
      let (literals, distances) = try dynamicCodes(&reader)
      try inflateBlock(&reader, &out, limit: limit, literals, distances)
    default:
      throw InflateError("the compressed data has a block of the reserved type 3")
    }
  }
  return out
}

/// The fixed codes of block type 1.
private let fixedCodes: (literals: Huffman, distances: Huffman) = {
  let literals = (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 }
  // Both are complete codes, which `Huffman` accepts.
  return (try! Huffman(lengths: literals), try! Huffman(lengths: [Int](repeating: 5, count: 30)))
}()

/// The literal/length and distance codes of a dynamic block's header.
private func dynamicCodes(_ reader: inout BitReader) throws -> (Huffman, Huffman) {
  let literalCount = try reader.bits(5) + 257
  let distanceCount = try reader.bits(5) + 1
  let codeLengthCount = try reader.bits(4) + 4
  guard literalCount <= 286, distanceCount <= 30 else { throw InflateError("a dynamic block declares too many codes") }
  let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
  var codeLengths = [Int](repeating: 0, count: 19)
  for i in 0..<codeLengthCount { codeLengths[order[i]] = try reader.bits(3) }
  let lengthCode = try Huffman(lengths: codeLengths)
  var lengths: [Int] = []
  while lengths.count < literalCount + distanceCount {
    let symbol = try lengthCode.decode(&reader)
    switch symbol {
    case 0...15:
      lengths.append(symbol)
    case 16:
      guard let previous = lengths.last else { throw InflateError("a code length repeats before any is given") }
      lengths += repeatElement(previous, count: 3 + (try reader.bits(2)))
    case 17:
      lengths += repeatElement(0, count: 3 + (try reader.bits(3)))
    default:
      lengths += repeatElement(0, count: 11 + (try reader.bits(7)))
    }
  }
  guard lengths.count == literalCount + distanceCount else {
    throw InflateError("a dynamic block's code lengths run past their count")
  }
  guard lengths[256] != 0 else { throw InflateError("a dynamic block has no end-of-block code") }
  return (
    try Huffman(lengths: Array(lengths[0..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...]))
  )
}

/// One Huffman-coded block: literals and (length, distance) copies up to end-of-block.
private func inflateBlock(
  _ reader: inout BitReader, _ out: inout [UInt8], limit: Int, _ literals: Huffman, _ distances: Huffman
) throws {
  while true {
    let symbol = try literals.decode(&reader)
    if symbol < 256 {
      guard out.count < limit else { throw InflateError("the data inflates past the expected \(limit) bytes") }
      out.append(UInt8(symbol))
      continue
    }
    if symbol == 256 { return }
    let l = symbol - 257
    guard l < 29 else { throw InflateError("the compressed data holds an invalid length code") }
    let length = lengthBase[l] + (try reader.bits(lengthExtra[l]))
    let d = try distances.decode(&reader)
    guard d < 30 else { throw InflateError("the compressed data holds an invalid distance code") }
    let distance = distanceBase[d] + (try reader.bits(distanceExtra[d]))
    guard distance <= out.count else { throw InflateError("a copy reaches back before the start of the data") }
    guard out.count + length <= limit else { throw InflateError("the data inflates past the expected \(limit) bytes") }
    let start = out.count - distance
    for i in 0..<length { out.append(out[start + i]) }
  }
}
