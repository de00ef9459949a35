import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A path (or any value a user gave) as messages show it: in single quotes, with control
/// characters, quotes and backslashes escaped, so that a name holding a newline still gives a
/// one-line message; past 300 characters it is cut short with "…".
package func quoted(_ path: String) -> String {
  var out = "'"
  let scalars = path.unicodeScalars
  let shown = scalars.count > 300 ? String(String.UnicodeScalarView(scalars.prefix(300))) : path
  for u in shown.unicodeScalars {
    switch u {
    case "'": out += "\\'"
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _
    where u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value) || u.value == 0x2028
      || u.value == 0x2029:
      out += "\\u{\(String(u.value, radix: 16))}"
    default: out.unicodeScalars.append(u)
    }
  }
  return out + (scalars.count > 300 ? "…'" : "'")
}

/// What the system says of an errno value, as a lowercase phrase ("no such file or directory").
package func reason(_ code: Int32) -> String {
  switch code {
  case ENOENT: return "does not exist"
  case ELOOP: return "is a loop of symbolic links"
  case EACCES, EPERM: return "cannot be reached: permission denied"
  case ENOTDIR: return "cannot be reached: part of the path is a file, not a directory"
  case ENAMETOOLONG: return "has a name too long for the system"
  default: return "cannot be reached: \(String(cString: strerror(code)))"
  }
}

/// What kind of thing is at `path`, following symbolic links.
package enum PathKind: Equatable {
  case file, directory, other
  /// Nothing usable: `reason` says why (missing, a loop, no permission ...).
  case unreachable(reason: String, missing: Bool)
}

package func pathKind(_ path: String) -> PathKind {
  guard !path.isEmpty else { return .unreachable(reason: "is an empty path", missing: true) }
  var st = stat()
  guard stat(path, &st) == 0 else {
    let code = errno
    return .unreachable(reason: reason(code), missing: code == ENOENT)
  }
  switch st.st_mode & S_IFMT {
  case S_IFREG: return .file
  case S_IFDIR: return .directory
  default: return .other
  }
}

/// What a file that is not a regular one is, for messages: "a named pipe (FIFO)".
private func kindName(_ mode: mode_t) -> String {
  switch mode & S_IFMT {
  case S_IFIFO: return "a named pipe (FIFO)"
  case S_IFSOCK: return "a socket"
  case S_IFCHR: return "a character device"
  case S_IFBLK: return "a block device"
  case S_IFDIR: return "a directory"
  default: return "not a regular file"
  }
}

/// Opens a regular file for reading. Anything else (a directory, a pipe, a socket, a device) is
/// refused at once: the open never waits for a pipe's writer, and the kind is checked on the
/// opened file, so a file swapped for a pipe after a check cannot block a read either.
package func openRegularFile(_ path: String, what: String) throws -> Int32 {
  if case .unreachable(let why, _) = pathKind(path) { throw TensorError("\(what) \(quoted(path)) \(why)") }
  var before = stat()
  if stat(path, &before) == 0 && before.st_mode & S_IFMT != S_IFREG {
    throw TensorError("\(what) \(quoted(path)) is \(kindName(before.st_mode)), not a regular file")
  }
  let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
  guard fd >= 0 else { throw TensorError("\(what) \(quoted(path)) \(reason(errno))") }
  var st = stat()
  guard fstat(fd, &st) == 0 else {
    let code = errno
    close(fd)
    throw TensorError("\(what) \(quoted(path)) \(reason(code))")
  }
  guard st.st_mode & S_IFMT == S_IFREG else {
    close(fd)
    let kind = kindName(st.st_mode)
    throw TensorError("\(what) \(quoted(path)) is \(kind), not a regular file")
  }
  _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
  return fd
}

/// Reads up to `count` bytes into `buffer` at `offset`, retrying interrupted reads; 0 at the end.
package func readSome(
  _ fd: Int32, into buffer: inout [UInt8], at offset: Int = 0, count: Int, what: String, path: String
)
  throws -> Int
{
  while true {
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, count) }
    if n >= 0 { return n }
    if errno != EINTR {
      throw TensorError("cannot read \(what) \(quoted(path)): \(String(cString: strerror(errno)))")
    }
  }
}

/// The whole contents of a regular file, at most `limit` bytes, with the system's reason on
/// failure: "checkpoint 'x' is a loop of symbolic links". With `prefix`, only the first
/// `prefix` bytes (fewer if the file is shorter).
package func readFile(_ path: String, what: String, limit: Int = 1 << 34, prefix: Int? = nil) throws -> [UInt8] {
  let fd = try openRegularFile(path, what: what)
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 20)
  while true {
    let wanted = Swift.min(chunk.count, (prefix ?? Int.max) - bytes.count)
    if wanted <= 0 { return bytes }
    let n = try readSome(fd, into: &chunk, count: wanted, what: what, path: path)
    if n == 0 { return bytes }
    guard bytes.count + n <= limit else {
      throw TensorError("\(what) \(quoted(path)) is larger than the \(limit >> 20) MB this reader accepts")
    }
    bytes.append(contentsOf: chunk[0..<n])
  }
}

/// Opens `path` for writing (`flags` added to O_WRONLY) without waiting: a named pipe that no
/// process reads is refused at once, as the system reports it, instead of blocking.
package func openForWriting(_ path: String, flags: Int32, what: String) throws -> Int32 {
  let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | flags, 0o644)
  guard fd >= 0 else {
    let code = errno
    var st = stat()
    let socket = stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK
    let why =
      code != ENXIO
      ? String(cString: strerror(code)) : socket ? "it is a socket" : "it is a named pipe that no process reads"
    throw TensorError("cannot write \(what) \(quoted(path)): \(why)")
  }
  _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
  return fd
}

/// Writes all of `bytes` to `fd`, retrying short writes; returns errno on failure, 0 on success.
package func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
  var done = 0
  while done < bytes.count {
    let r = write(fd, bytes.baseAddress! + done, bytes.count - done)
    if r < 0 {
      if errno == EINTR { continue }
      return errno
    }
    if r == 0 { return EIO }
    done += r
  }
  return 0
}

/// `mkdir -p`: creates `path` and its missing parents, saying which part failed and why.
package func makeDirectories(_ path: String) throws {
  guard !path.isEmpty else { return }
  switch pathKind(path) {
  case .directory: return
  case .file, .other: throw TensorError("cannot create the folder \(quoted(path)): a file of that name exists")
  case .unreachable(_, let missing) where missing:
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty && parent != path { try makeDirectories(parent) }
    if mkdir(path, 0o755) != 0 && errno != EEXIST {
      throw TensorError("cannot create the folder \(quoted(path)): \(String(cString: strerror(errno)))")
    }
  case .unreachable(let why, _): throw TensorError("the folder \(quoted(path)) \(why)")
  }
}

/// Checks that a file can be written at `path` before any long work: not empty, not a
/// directory, its folder created if missing and writable (a probe file is made and removed).
package func checkWritable(_ path: String, what: String, regularFile: Bool = false) throws {
  guard !path.isEmpty else { throw TensorError("\(what) is an empty path") }
  if pathKind(path) == .directory { throw TensorError("\(what) \(quoted(path)) is a directory; give a file path") }
  // A loop of symbolic links is never written through (a save would replace one of its links).
  if case .unreachable(let why, false) = pathKind(path), why == reason(ELOOP) {
    throw TensorError("\(what) \(quoted(path)) \(why)")
  }
  if pathKind(path) == .other {
    if regularFile {
      throw TensorError("\(what) \(quoted(path)) is not a regular file (a device or a pipe); give a file path")
    }
    close(try openForWriting(path, flags: 0, what: what))
    return
  }
  let folder = (path as NSString).deletingLastPathComponent
  try makeDirectories(folder)
  let probe = "\(path).probe-\(getpid())"
  let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o644)
  guard fd >= 0 else {
    throw TensorError(
      "cannot write \(what) \(quoted(path)): \(String(cString: strerror(errno))) in the folder \(quoted(folder.isEmpty ? "." : folder))"
    )
  }
  close(fd)
  unlink(probe)
}

/// Removes `<path>.tmp-<pid>` and `<path>.probe-<pid>` files left by writers that were killed
/// mid-write (their process is gone); files of live processes are left alone.
package func removeStaleTemporaries(of path: String) {
  let folder = (path as NSString).deletingLastPathComponent
  let base = (path as NSString).lastPathComponent
  guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return }
  for name in names {
    guard let prefix = [base + ".tmp-", base + ".probe-"].first(where: { name.hasPrefix($0) }),
      let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid()
    else { continue }
    if kill(pid, 0) != 0 && errno == ESRCH {
      unlink(folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name))
    }
  }
}

/// Writes `bytes` atomically: a temporary file beside `path`, flushed to disk, then renamed
/// over it, so a crash mid-write leaves the old file whole. Stale temporaries of killed
/// writers are removed first.
package func writeAtomically(_ bytes: [UInt8], to link: String, what: String) throws {
  // Through a symbolic link, the file it names is replaced, not the link.
  let path =
    (try? FileManager.default.destinationOfSymbolicLink(atPath: link)).map {
      $0.hasPrefix("/") ? $0 : ((link as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0)
    } ?? link
  guard pathKind(path) != .other else {
    throw TensorError("cannot write \(what) \(quoted(link)): it is not a regular file (a device or a pipe)")
  }
  removeStaleTemporaries(of: path)
  let dir = (path as NSString).deletingLastPathComponent
  let tmp = "\(path).tmp-\(getpid())"
  let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  guard fd >= 0 else {
    throw TensorError("cannot write \(what) \(quoted(path)): \(String(cString: strerror(errno)))")
  }
  var code = bytes.withUnsafeBytes { writeAll(fd, $0) }
  if code == 0 && fsync(fd) != 0 { code = errno }
  close(fd)
  if code == 0 && rename(tmp, path) != 0 { code = errno }
  guard code == 0 else {
    unlink(tmp)
    throw TensorError("cannot write \(what) \(quoted(path)): \(String(cString: strerror(code)))")
  }
  let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
  if dfd >= 0 {
    fsync(dfd)
    close(dfd)
  }
}

/// Appends `bytes` to `path` (created if missing) in one write.
package func appendToFile(_ bytes: [UInt8], path: String, what: String) throws {
  let fd = try openForWriting(path, flags: O_APPEND | O_CREAT, what: what)
  var code = bytes.withUnsafeBytes { writeAll(fd, $0) }
  if code == 0 && fsync(fd) != 0 && errno != EINVAL && errno != EROFS { code = errno }
  close(fd)
  guard code == 0 else { throw TensorError("cannot write \(what) \(quoted(path)): \(String(cString: strerror(code)))") }
}
