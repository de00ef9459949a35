import Tensors

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An image file's bytes, read in order a buffer at a time, so that a decoder holds a bounded
/// piece of a large file rather than all of it. It reads from a regular file or from memory.
struct ByteSource {
  private var buffer: [UInt8]
  private var start = 0
  private var end: Int
  private let fd: Int32
  private let path: String
  /// The whole size: the file's, or the array's.
  let size: Int
  /// Bytes handed out so far.
  private(set) var consumed = 0

  init(bytes: [UInt8]) {
    (buffer, end, fd, path, size) = (bytes, bytes.count, -1, "", bytes.count)
  }

  /// Reads the regular file at `path` (anything else is refused at once); `closeFile` ends it.
  init(file path: String) throws {
    let fd = try openRegularFile(path, what: "image file")
    var st = stat()
    _ = fstat(fd, &st)
    (buffer, end, self.fd, self.path, size) = ([UInt8](repeating: 0, count: 1 << 20), 0, fd, path, Int(st.st_size))
  }

  /// Closes the file (nothing for bytes in memory).
  func closeFile() { if fd >= 0 { close(fd) } }

  /// The bytes not yet handed out, as far as the size says.
  var remaining: Int { size - consumed }

  /// The next bytes, at most `n` (at least one unless the data has ended: then none).
  mutating func next(upTo n: Int) throws -> ArraySlice<UInt8> {
    if start == end {
      guard fd >= 0 else { return [] }
      start = 0
      end = try readSome(fd, into: &buffer, count: buffer.count, what: "image file", path: path)
      if end == 0 { return [] }
    }
    let k = Swift.min(n, end - start)
    defer {
      start += k
      consumed += k
    }
    return buffer[start..<(start + k)]
  }

  /// Exactly `n` bytes; a shorter file is an error that says `what` it ended in.
  mutating func read(_ n: Int, _ what: @autoclosure () -> String) throws -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(n)
    while out.count < n {
      let piece = try next(upTo: n - out.count)
      guard !piece.isEmpty else { throw ImageFileError("the file ends inside \(what())") }
      out += piece
    }
    return out
  }

  /// The next byte, nil at the end.
  mutating func byte() throws -> UInt8? { try next(upTo: 1).first }
}
