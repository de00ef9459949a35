#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// The few MPI functions data-parallel training calls, found at run time in a library opened
// with `dlopen`: nothing MPI is linked. MPI's C API is the same everywhere but its handles are
// not. Open MPI's communicators and datatypes are addresses of global objects in the library
// (`ompi_mpi_comm_world`, `ompi_mpi_byte`); MPICH's (and its derivatives': Intel MPI,
// MVAPICH) are integer constants from its `mpi.h`. `MPI_Get_library_version`, whose
// signature has no handle, tells the two apart; each has its own small table below.

/// An MPI library opened at run time, with its ABI's handles.
final class MPILibrary: Sendable {
  /// How the library spells handles.
  enum ABI: Sendable {
    /// Handles are pointers to the library's globals.
    case openMPI(world: UInt, byte: UInt)
    /// Handles are 32-bit constants.
    case mpich
  }

  let path: String
  let version: String
  let abi: ABI
  private let handle: UInt

  // MPICH's handle constants (mpi.h).
  private static let mpichCommWorld: Int32 = 0x4400_0000
  private static let mpichByte: Int32 = 0x4c00_010d

  /// Opens the first of `candidates` that loads and checks that it is an MPI it knows.
  init(candidates: [String]) throws {
    var tried: [String] = []
    var opened: (UnsafeMutableRawPointer, String)?
    for name in candidates {
      if let h = dlopen(name, RTLD_NOW | RTLD_GLOBAL) {
        opened = (h, name)
        break
      }
      tried.append(String(cString: dlerror()))
    }
    guard let (h, name) = opened else {
      throw DistributedError("no MPI library could be opened (\(tried.joined(separator: "; ")))")
    }
    handle = UInt(bitPattern: h)
    path = name
    typealias GetVersion = @convention(c) (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32
    guard let getVersion = dlsym(h, "MPI_Get_library_version") else {
      throw DistributedError("\(name) has no MPI_Get_library_version: not an MPI 3 library")
    }
    var text = [CChar](repeating: 0, count: 8192)
    var length: Int32 = 0
    _ = unsafeBitCast(getVersion, to: GetVersion.self)(&text, &length)
    version = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if version.contains("Open MPI") {
      guard let world = dlsym(h, "ompi_mpi_comm_world"), let byte = dlsym(h, "ompi_mpi_byte") else {
        throw DistributedError("\(name) says it is Open MPI but lacks ompi_mpi_comm_world or ompi_mpi_byte")
      }
      abi = .openMPI(world: UInt(bitPattern: world), byte: UInt(bitPattern: byte))
    } else if ["MPICH", "Intel(R) MPI", "MVAPICH"].contains(where: version.contains) {
      abi = .mpich
    } else {
      throw DistributedError("\(name) is an MPI this program does not know: \(version.prefix(80))")
    }
  }

  /// The version text's first line, its spacing made plain.
  var firstLine: String {
    version.prefix { $0 != "\n" && $0 != "," }.split(whereSeparator: \.isWhitespace).joined(separator: " ")
  }

  private func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
    guard let p = dlsym(UnsafeMutableRawPointer(bitPattern: handle), name) else {
      throw DistributedError("\(path) has no \(name)")
    }
    return p
  }

  private func check(_ status: Int32, _ name: String) throws {
    guard status == 0 else { throw DistributedError("\(name) failed with MPI error \(status)") }
  }

  func initialize() throws {
    typealias Initialized = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
    typealias Init = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    var done: Int32 = 0
    _ = unsafeBitCast(try symbol("MPI_Initialized"), to: Initialized.self)(&done)
    if done == 0 { try check(unsafeBitCast(try symbol("MPI_Init"), to: Init.self)(nil, nil), "MPI_Init") }
  }

  func finalize() {
    typealias Finalize = @convention(c) () -> Int32
    if let f = try? symbol("MPI_Finalize") { _ = unsafeBitCast(f, to: Finalize.self)() }
  }

  /// MPI_Comm_rank or MPI_Comm_size on the world communicator.
  func worldQuery(_ name: String) throws -> Int {
    var value: Int32 = 0
    switch abi {
    case .openMPI(let world, _):
      typealias F = @convention(c) (UnsafeRawPointer?, UnsafeMutablePointer<Int32>?) -> Int32
      try check(unsafeBitCast(try symbol(name), to: F.self)(UnsafeRawPointer(bitPattern: world), &value), name)
    case .mpich:
      typealias F = @convention(c) (Int32, UnsafeMutablePointer<Int32>?) -> Int32
      try check(unsafeBitCast(try symbol(name), to: F.self)(Self.mpichCommWorld, &value), name)
    }
    return Int(value)
  }

  /// MPI_Allgather or MPI_Alltoall of bytes on the world communicator (`count` bytes per rank).
  func collective(_ name: String, _ send: UnsafeRawPointer?, _ receive: UnsafeMutableRawPointer?, count: Int) throws {
    guard let n = Int32(exactly: count) else {
      throw DistributedError("\(name) of \(count) bytes per process is more than MPI's int counts")
    }
    switch abi {
    case .openMPI(let world, let byte):
      typealias F =
        @convention(c) (
          UnsafeRawPointer?, Int32, UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, UnsafeRawPointer?,
          UnsafeRawPointer?
        ) -> Int32
      let (w, b) = (UnsafeRawPointer(bitPattern: world), UnsafeRawPointer(bitPattern: byte))
      try check(unsafeBitCast(try symbol(name), to: F.self)(send, n, b, receive, n, b, w), name)
    case .mpich:
      typealias F =
        @convention(c) (UnsafeRawPointer?, Int32, Int32, UnsafeMutableRawPointer?, Int32, Int32, Int32)
        -> Int32
      let (w, b) = (Self.mpichCommWorld, Self.mpichByte)
      try check(unsafeBitCast(try symbol(name), to: F.self)(send, n, b, receive, n, b, w), name)
    }
  }

  /// MPI_Abort on the world communicator: every process of the job ends.
  func abort(_ code: Int32) {
    switch abi {
    case .openMPI(let world, _):
      typealias F = @convention(c) (UnsafeRawPointer?, Int32) -> Int32
      if let f = try? symbol("MPI_Abort") {
        _ = unsafeBitCast(f, to: F.self)(UnsafeRawPointer(bitPattern: world), code)
      }
    case .mpich:
      typealias F = @convention(c) (Int32, Int32) -> Int32
      if let f = try? symbol("MPI_Abort") { _ = unsafeBitCast(f, to: F.self)(Self.mpichCommWorld, code) }
    }
  }
}
