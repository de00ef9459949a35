// Inflate (RFC 1951, DEFLATE) inside a zlib stream (RFC 1950), as PNG stores its pixels:
// stored, fixed-Huffman and dynamic-Huffman blocks. Every read is checked, so a damaged or
// hostile stream ends in an `InflateError`, never a trap; the output stops at a given size,
// so a small file cannot expand into gigabytes. Input and output both stream: the compressed
// bytes arrive in pieces and the inflated ones leave in pieces, keeping only DEFLATE's 32 KB
// window, so a large image never needs its whole compressed or inflated data in memory.

/// Why a zlib stream could not be inflated.
public struct InflateError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}

/// Inflates a zlib stream whose compressed bytes `input` gives in pieces (nil at the end),
/// handing the inflated bytes to `output` in order, in pieces; more than `limit` bytes in all
/// is an error.
func zlibInflate(
  input: @escaping () throws -> ArraySlice<UInt8>?, limit: Int, output: @escaping (ArraySlice<UInt8>) throws -> Void
) throws {
  var reader = BitReader(input)
  let (cmf, flg) = (try reader.bits(8), try reader.bits(8))
  guard cmf & 0x0f == 8, cmf >> 4 <= 7 else { throw InflateError("the zlib stream is not deflate-compressed") }
  guard (cmf << 8 | flg) % 31 == 0 else { throw InflateError("the zlib header's check bits are wrong") }
  guard flg & 0x20 == 0 else { throw InflateError("the zlib stream needs a preset dictionary") }
  var window = Window(limit: limit, output: output)
  try inflate(&reader, &window)
  try window.flush(keeping: 0)
  reader.alignToByte()
  var stored: UInt32 = 0
  for _ in 0..<4 {
    guard let b = try? reader.bits(8) else { throw InflateError("the zlib stream ends before its checksum") }
    stored = stored << 8 | UInt32(b)
  }
  guard stored == window.adler else { throw InflateError("the zlib checksum does not match the data") }
}

/// The bytes of a zlib stream held in memory, at most `limit` of them (more is an error).
func zlibDecompress(_ data: [UInt8], limit: Int) throws -> [UInt8] {
  var given = false
  var out: [UInt8] = []
  try zlibInflate(
    input: {
      defer { given = true }
      return given ? nil : data[...]
    }, limit: limit, output: { out += $0 })
  return out
}

/// The inflated bytes: the last 32 KB kept for copies, the rest handed on in pieces, with the
/// running Adler-32 of everything handed on.
struct Window {
  private(set) var bytes: [UInt8] = []
  /// Bytes already dropped from the front, and how many of `bytes` are handed on.
  private var dropped = 0
  private var handed = 0
  let limit: Int
  let output: (ArraySlice<UInt8>) throws -> Void
  private var a: UInt32 = 1
  private var b: UInt32 = 0

  init(limit: Int, output: @escaping (ArraySlice<UInt8>) throws -> Void) {
    (self.limit, self.output) = (limit, output)
    bytes.reserveCapacity(1 << 18)
  }

  var adler: UInt32 { b << 16 | a }

  /// Whether `n` more bytes stay within the limit.
  func fits(_ n: Int) -> Bool { dropped + bytes.count + n <= limit }

  mutating func append(_ byte: UInt8) { bytes.append(byte) }

  mutating func append(contentsOf piece: ArraySlice<UInt8>) { bytes += piece }

  /// Copies `length` bytes from `distance` back (checked by the caller to be in the window).
  mutating func copy(distance: Int, length: Int) {
    let start = bytes.count - distance
    for i in 0..<length { bytes.append(bytes[start + i]) }
  }

  /// Hands on everything not yet handed on once the window has grown past 192 KB, keeping 32 KB.
  mutating func flushIfLarge() throws { if bytes.count >= 3 << 16 { try flush(keeping: 1 << 15) } }

  /// Hands on every byte not yet handed on and drops all but the last `keep` bytes.
  mutating func flush(keeping keep: Int) throws {
    let piece = bytes[handed...]
    (a, b) = adler32(piece, a, b)
    try output(piece)
    let drop = Swift.max(0, bytes.count - keep)
    bytes.removeFirst(drop)
    dropped += drop
    handed = bytes.count
  }
}

/// Adler-32 (RFC 1950) of `bytes`.
func adler32(_ bytes: [UInt8]) -> UInt32 {
  let (a, b) = adler32(bytes[...], 1, 0)
  return b << 16 | a
}

/// Adler-32's two sums carried on over `bytes`.
func adler32(_ bytes: ArraySlice<UInt8>, _ a0: UInt32, _ b0: UInt32) -> (UInt32, UInt32) {
  var (a, b) = (a0, b0)
  var i = bytes.startIndex
  while i < bytes.endIndex {
    // 5,552 bytes keep the sums below 2³² before the modulo.
    let end = min(bytes.endIndex, i + 5552)
    while i < end {
      a += UInt32(bytes[i])
      b += a
      i += 1
    }
    a %= 65521
    b %= 65521
  }
  return (a, b)
}

/// Little-endian bits of a byte stream that arrives in pieces, least significant first, as
/// DEFLATE packs them.
struct BitReader {
  private var data: ArraySlice<UInt8> = []
  private var position = 0
  private let more: () throws -> ArraySlice<UInt8>?
  private var buffer: UInt64 = 0
  private var count = 0

  init(_ more: @escaping () throws -> ArraySlice<UInt8>?) { self.more = more }

  /// The next piece of input; false at its end.
  private mutating func refill() throws -> Bool {
    while let piece = try more() {
      if !piece.isEmpty {
        (data, position) = (piece, piece.startIndex)
        return true
      }
    }
    return false
  }

  /// The next `n` (≤ 32) bits as a number, the first bit least significant.
  mutating func bits(_ n: Int) throws -> Int {
    while count < n {
      if position == data.endIndex {
        guard try refill() else { throw InflateError("the compressed data ends early") }
      }
      buffer |= UInt64(data[position]) << UInt64(count)
      position += 1
      count += 8
    }
    let value = Int(buffer & ((1 << UInt64(n)) - 1))
    buffer >>= UInt64(n)
    count -= n
    return value
  }

  /// The next `n` (≤ 32) bits without taking them, and how many of them the input still has
  /// (fewer than `n` only at its end; the missing ones read as 0).
  mutating func peek(_ n: Int) throws -> (Int, Int) {
    while count < n {
      if position == data.endIndex {
        guard try refill() else { break }
      }
      buffer |= UInt64(data[position]) << UInt64(count)
      position += 1
      count += 8
    }
    return (Int(buffer & ((1 << UInt64(n)) - 1)), Swift.min(n, count))
  }

  /// Takes `n` bits that `peek` showed.
  mutating func drop(_ n: Int) {
    buffer >>= UInt64(n)
    count -= n
  }

  /// Drops the bits up to the next byte boundary.
  mutating func alignToByte() {
    let drop = count % 8
    buffer >>= UInt64(drop)
    count -= drop
  }

  /// `n` bytes straight from the stream (a stored block), after `alignToByte`, into `window`.
  mutating func copyBytes(_ n: Int, into window: inout Window) throws {
    var left = n
    while left > 0 && count > 0 {
      window.append(UInt8(try bits(8)))
      left -= 1
    }
    while left > 0 {
      if position == data.endIndex {
        guard try refill() else { throw InflateError("a stored block runs past the end of the data") }
      }
      let k = Swift.min(left, data.endIndex - position)
      window.append(contentsOf: data[position..<(position + k)])
      position += k
      left -= k
      try window.flushIfLarge()
    }
  }
}

/// A canonical Huffman code (RFC 1951 §3.2.2): codes of up to 9 bits are found in one table
/// look-up of the next 9 bits; longer ones are decoded bit by bit from the counts of codes of
/// each length (`decodeSlowly`).
struct Huffman {
  private var counts = [Int](repeating: 0, count: 16)
  private var symbols: [Int] = []
  /// Indexed by the next 9 input bits: symbol << 4 | code length, or 0 for a longer code.
  private var table = [UInt16](repeating: 0, count: 1 << 9)

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
    // Canonical codes: by length, then by symbol; read first bit first, so the table is
    // indexed by the code's bits reversed.
    var next = [Int](repeating: 0, count: 16)
    var code = 0
    for l in 1..<16 {
      code = (code + counts[l - 1]) << 1
      next[l] = code
    }
    for (symbol, l) in lengths.enumerated() where l != 0 && l <= 9 {
      var reversed = 0
      for b in 0..<l where next[l] >> b & 1 != 0 { reversed |= 1 << (l - 1 - b) }
      next[l] += 1
      for fill in stride(from: reversed, to: 1 << 9, by: 1 << l) { table[fill] = UInt16(symbol << 4 | l) }
    }
  }

  func decode(_ reader: inout BitReader) throws -> Int {
    let (bits, available) = try reader.peek(9)
    let entry = Int(table[bits])
    if entry != 0 && entry & 15 <= available {
      reader.drop(entry & 15)
      return entry >> 4
    }
    return try decodeSlowly(&reader)
  }

  func decodeSlowly(_ reader: inout BitReader) throws -> Int {
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

/// The raw DEFLATE blocks from `reader`, into `window`.
func inflate(_ reader: inout BitReader, _ window: inout Window) throws {
  var last = false
  while !last {
    last = try reader.bits(1) == 1
    switch try reader.bits(2) {
    case 0:
      reader.alignToByte()
      let n = try reader.bits(16)
      guard try reader.bits(16) == n ^ 0xffff else { throw InflateError("a stored block's length check fails") }
      guard window.fits(n) else { throw InflateError("the data inflates past the expected \(window.limit) bytes") }
      try reader.copyBytes(n, into: &window)
    case 1:
      try inflateBlock(&reader, &window, fixedCodes.literals, fixedCodes.distances)
    case 2:
      let (literals, distances) = try dynamicCodes(&reader)
      try inflateBlock(&reader, &window, literals, distances)
    default:
      throw InflateError("the compressed data has a block of the reserved type 3")
    }
    try window.flushIfLarge()
  }
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
private func inflateBlock(_ reader: inout BitReader, _ window: inout Window, _ literals: Huffman, _ distances: Huffman)
  throws
{
  let tooLong = InflateError("the data inflates past the expected \(window.limit) bytes")
  while true {
    let symbol = try literals.decode(&reader)
    if symbol < 256 {
      guard window.fits(1) else { throw tooLong }
      window.append(UInt8(symbol))
      continue
    }
    if symbol == 256 { return }
    let l = symbol - 257
    guard l < 29 else { throw InflateError("the compressed data holds an invalid length code") }
    let length = lengthBase[l] + (try reader.bits(lengthExtra[l]))
    let d = try distances.decode(&reader)
    guard d < 30 else { throw InflateError("the compressed data holds an invalid distance code") }
    let distance = distanceBase[d] + (try reader.bits(distanceExtra[d]))
    // The window keeps at least the 32 KB a distance can reach, once that much is inflated.
    guard distance <= window.bytes.count else {
      throw InflateError("a copy reaches back before the start of the data")
    }
    guard window.fits(length) else { throw tooLong }
    window.copy(distance: distance, length: length)
    try window.flushIfLarge()
  }
}
