// JPEG's entropy-coded data (ITU T.81, Annex F and G): Huffman tables, the bit stream with
// its byte stuffing and markers, and the decoding of one block's coefficients in sequential
// and progressive scans (first passes and successive-approximation refinements). Every
// count, index and run is checked: damaged data ends in an `ImageFileError`, never a trap.

/// Zigzag position → natural (row-major) position in an 8×8 block.
let zigzag: [Int] = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
]

/// A Huffman table of a DHT segment: codes of up to 9 bits in one look-up of the next 9 bits,
/// longer ones by the standard's per-length code ranges (F.2.2.3).
struct JPEGHuffman {
  private var values: [UInt8] = []
  private var maxCode = [Int](repeating: -1, count: 18)
  private var valueOffset = [Int](repeating: 0, count: 17)
  /// Indexed by the next 9 bits: value << 4 | code length, or 0 for a longer code.
  private var table = [UInt16](repeating: 0, count: 1 << 9)

  /// `counts[l]`: codes of length l + 1; `values`: the symbols in code order.
  init(counts: [Int], values: [UInt8]) throws {
    guard counts.count == 16, counts.reduce(0, +) == values.count, values.count <= 256 else {
      throw ImageFileError("a JPEG Huffman table lists \(values.count) values for \(counts.reduce(0, +)) codes")
    }
    self.values = values
    var code = 0
    var k = 0
    for l in 1...16 {
      let n = counts[l - 1]
      valueOffset[l] = k - code
      // No code may be all ones (T.81 C.2), so the codes of a length stop short of 2^l.
      guard n == 0 || code + n < 1 << l else {
        throw ImageFileError("a JPEG Huffman table has more codes than fit their lengths")
      }
      if n > 0 {
        for i in 0..<n where l <= 9 {
          let entry = UInt16(Int(values[k + i]) << 4 | l)
          for fill in 0..<(1 << (9 - l)) { table[(code + i) << (9 - l) | fill] = entry }
        }
        code += n
        k += n
        maxCode[l] = code - 1
      }
      code <<= 1
    }
    maxCode[17] = Int.max
  }

  func decode(_ bits: inout JPEGBits) throws -> Int {
    let entry = Int(table[try bits.peek(9)])
    if entry != 0 {
      bits.drop(entry & 15)
      return entry >> 4
    }
    var code = 0
    for l in 1...16 {
      code = code << 1 | (try bits.bit())
      if code <= maxCode[l] { return Int(values[code + valueOffset[l]]) }
    }
    throw ImageFileError("the JPEG data holds an invalid Huffman code")
  }
}

/// The file's bytes, and the entropy-coded bits of a scan read from them most significant
/// first, with stuffed zero bytes removed. A marker ends the data: it is kept for the caller,
/// and the bits after it read as zeros, up to a limit past which the data has ended early.
struct JPEGBits {
  var source: ByteSource
  private var buffer: UInt64 = 0
  private var count = 0
  /// The marker (the byte after 0xFF) that ended the data, if one has.
  private(set) var marker: UInt8?
  private var padding = 0

  init(_ source: ByteSource) { self.source = source }

  /// Fills the buffer from the source.
  private mutating func fill() throws {
    while count <= 56 {
      var byte: UInt8 = 0
      if marker == nil {
        guard let b = try source.byte() else { throw ImageFileError("the JPEG file ends inside its image data") }
        if b == 0xFF {
          var next = try source.byte()
          while next == 0xFF { next = try source.byte() }
          guard let n = next else { throw ImageFileError("the JPEG file ends inside its image data") }
          if n == 0 { byte = 0xFF } else { marker = n }
        } else {
          byte = b
        }
      }
      if marker != nil {
        // Past a marker: zeros, as libjpeg gives, but a scan may not run far on them.
        padding += 1
        guard padding < 1 << 12 else { throw ImageFileError("the JPEG image data ends early") }
      }
      buffer |= UInt64(byte) << UInt64(56 - count)
      count += 8
    }
  }

  mutating func peek(_ n: Int) throws -> Int {
    if count < n { try fill() }
    return Int(buffer >> UInt64(64 - n))
  }

  mutating func drop(_ n: Int) {
    buffer <<= UInt64(n)
    count -= n
  }

  mutating func bit() throws -> Int {
    let b = try peek(1)
    drop(1)
    return b
  }

  /// `n` (≤ 16) bits as a number.
  mutating func bits(_ n: Int) throws -> Int {
    guard n > 0 else { return 0 }
    let v = try peek(n)
    drop(n)
    return v
  }

  /// `n` bits read as a signed value of that magnitude category (F.2.2.1's EXTEND).
  mutating func signed(_ n: Int) throws -> Int {
    guard n > 0 else { return 0 }
    guard n <= 16 else { throw ImageFileError("the JPEG data holds a coefficient of \(n) bits") }
    let v = try bits(n)
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v
  }

  /// At a restart marker or a scan's end: drops the bits left in the byte and any buffered.
  mutating func reset() {
    (buffer, count, padding) = (0, 0, 0)
  }

  /// The next marker: the one that ended the data, else the next in the file (bytes before
  /// it, the padding of the last byte of data, are skipped). Buffered bits are dropped.
  mutating func nextMarker() throws -> UInt8 {
    reset()
    if let m = marker {
      marker = nil
      return m
    }
    while true {
      guard let b = try source.byte() else { throw ImageFileError("the JPEG file ends before its EOI marker") }
      guard b == 0xFF else { continue }
      var next = try source.byte()
      while next == 0xFF { next = try source.byte() }
      guard let n = next else { throw ImageFileError("the JPEG file ends before its EOI marker") }
      if n != 0 { return n }
    }
  }
}
