import Autograd
import Foundation

/// Why distributed training could not start or go on.
public struct DistributedError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Data-parallel training over MPI, bound at run time. `Distributed.mpi()` is nil unless an
/// MPI launcher (`mpirun`, `mpiexec`) started the process; then it opens the launcher's MPI
/// library and returns the job's processes as a `ProcessGroup` for `fit(group:)`.
public enum Distributed {
  /// The environment variable that names the MPI library when the default names do not load.
  public static let libraryVariable = "CNN_MPI_LIBRARY"

  /// The launcher's process count and this process's rank, from its environment (Open MPI's
  /// `OMPI_COMM_WORLD_*`, the PMI variables of MPICH's Hydra, PMIx's), or nil without one.
  public static func launcher(_ environment: [String: String] = ProcessInfo.processInfo.environment)
    -> (kind: String, size: Int, rank: Int)?
  {
    let kinds = [
      ("Open MPI", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"), ("MPICH", "PMI_SIZE", "PMI_RANK"),
      ("PMIx", "PMIX_SIZE", "PMIX_RANK"),
    ]
    for (kind, size, rank) in kinds {
      if let s = environment[size].flatMap(Int.init), let r = environment[rank].flatMap(Int.init) {
        return (kind, s, r)
      }
    }
    return nil
  }

  /// Processes of this job on this machine, as the launcher says (1 without one).
  public static func localProcesses(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
    ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"].lazy.compactMap { environment[$0].flatMap(Int.init) }.first
      ?? 1
  }

  /// The job's processes when an MPI launcher started this one, else nil (and nothing is
  /// loaded). The library is `CNN_MPI_LIBRARY` if set, else the usual name for the launcher.
  public static func mpi() throws -> MPIGroup? {
    let environment = ProcessInfo.processInfo.environment
    guard let launcher = launcher(environment) else { return nil }
    let names =
      environment[libraryVariable].map { [$0] }
      ?? (launcher.kind == "MPICH"
        ? ["libmpich.so.12", "libmpi.so.12", "libmpich.so"] : ["libmpi.so.40", "libmpi.so", "libmpi.so.12"])
    let library: MPILibrary
    do {
      library = try MPILibrary(candidates: names)
      try library.initialize()
    } catch let e as DistributedError {
      throw DistributedError(
        "process \(launcher.rank) of \(launcher.size) was started by an MPI launcher (\(launcher.kind)), but \(e.message); set \(libraryVariable) to the MPI library's path"
      )
    }
    let group = try MPIGroup(library)
    guard group.size == launcher.size, group.rank == launcher.rank else {
      throw DistributedError(
        "the launcher (\(launcher.kind)) started process \(launcher.rank) of \(launcher.size), but \(library.path) (\(library.firstLine)) sees process \(group.rank) of \(group.size): is it another MPI than the launcher's? Set \(libraryVariable) to the launcher's MPI library"
      )
    }
    return group
  }
}

/// The processes of an MPI job (its world communicator).
public final class MPIGroup: ProcessGroup {
  public let rank: Int
  public let size: Int
  let library: MPILibrary

  init(_ library: MPILibrary) throws {
    self.library = library
    rank = try library.worldQuery("MPI_Comm_rank")
    size = try library.worldQuery("MPI_Comm_size")
  }

  /// The MPI library's own description of itself.
  public var libraryVersion: String { library.version }

  public func allGather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    precondition(receive.count == send.count * size, "allGather: the receive buffer must hold every rank's bytes")
    try library.collective("MPI_Allgather", send.baseAddress, receive.baseAddress, count: send.count)
  }

  public func allToAll(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
    precondition(send.count % size == 0 && receive.count == send.count, "allToAll: blocks of equal size")
    try library.collective("MPI_Alltoall", send.baseAddress, receive.baseAddress, count: send.count / size)
  }

  /// Ends MPI after a successful run.
  public func finish() { library.finalize() }

  /// Ends every process of the job now, with `status`.
  public func abort(_ status: Int32) -> Never {
    library.abort(status)
    exit(status)
  }
}
