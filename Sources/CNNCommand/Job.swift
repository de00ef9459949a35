import CNN
import Distributed
import Foundation
import Tensors

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The processes `cnn train` runs as: one, or an MPI job's when a launcher (`mpirun`,
/// `mpiexec`) started it. Process 0 alone prints and writes the checkpoint and the log; the
/// others' standard output goes nowhere. An error in one process ends the whole job (MPI's
/// abort) with a message that names it, so that none waits for it forever.
struct Job {
  let group: MPIGroup?

  var rank: Int { group?.rank ?? 0 }
  var size: Int { group?.size ?? 1 }
  /// Whether this process prints and writes files.
  var leads: Bool { rank == 0 }

  /// Joins the launcher's job, if any; each process then uses its share of the machine's
  /// cores unless `--threads` was given.
  static func start(threadsGiven: Bool) throws -> Job {
    guard let group = try Distributed.mpi() else { return Job(group: nil) }
    if !threadsGiven { Threads.count = max(1, Threads.available / max(1, Distributed.localProcesses())) }
    if group.rank != 0 {
      let null = open("/dev/null", O_WRONLY)
      if null >= 0 {
        fflush(nil)
        dup2(null, STDOUT_FILENO)
        close(null)
      }
    }
    return Job(group: group)
  }

  /// Runs `body` as this process's part of the job: MPI ends cleanly after it, or, when it
  /// throws, the whole job stops with a message naming the process that failed. A
  /// disagreement (`CommandError`) was found by every process alike: process 0 reports it, the rest exit.
  func run(_ body: () throws -> Int32) throws -> Int32 {
    guard let group else { return try body() }
    do {
      let status = try body()
      group.finish()
      return status
    } catch let e as CommandError where e.kind == .disagreement {
      // Said before MPI ends: the launcher may stop the job as soon as one process has exited.
      if leads { printError(e.message) }
      group.finish()
      exit(1)
    } catch {
      let (status, message): (Int32, String) =
        switch error {
        case let e as CommandError: (e.status, e.message)
        case TrainingError.interrupted(let epoch): (130, "interrupted during epoch \(epoch)")
        default: (1, "\(error)")
        }
      printError("process \(rank) of \(size) stopped the job: \(message)")
      group.abort(status)
    }
  }

  /// Checks that the job's processes can share batches of `batchSize` (see `checkSharing`).
  func share(batchSize: Int, lastBatch: Int) throws {
    guard let group, group.size > 1 else { return }
    do {
      try checkSharing(group, batchSize: batchSize, lastBatch: lastBatch)
    } catch {
      throw CommandError(.disagreement, "\(error)")
    }
  }

  /// Checks that every process has what process 0 has.
  func agree(on items: [(name: String, value: String)]) throws {
    guard let group, group.size > 1 else { return }
    do {
      try checkAgreement(items, over: group)
    } catch {
      throw CommandError(.disagreement, "\(error)")
    }
  }
}

/// Every weight's bits, hashed (FNV-1a), to compare the processes' starting points.
func weightBits(_ model: Sequential) -> UInt64 {
  model.namedParameters.reduce(0xcbf2_9ce4_8422_2325) { h, p in
    fnv1a(UnsafeRawBufferPointer(start: p.variable.value.data, count: p.variable.value.count * 4), continuing: h)
  }
}
