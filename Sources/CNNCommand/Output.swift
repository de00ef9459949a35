// C's `stdout` is a global variable Swift 6 cannot check; it is written from one thread only.
@preconcurrency import Foundation
import Synchronization
import Tensors

#if canImport(Glibc)
  @preconcurrency import Glibc
#elseif canImport(Darwin)
  @preconcurrency import Darwin
#endif

/// The tool's two output streams. Writing can fail (a full disk, a closed terminal, a closed
/// pipe) and must never stop the program: errors go to standard error best effort, and a lost
/// standard output turns a successful exit status into 1 (see `finish`).

/// One line on standard error, "error: ..."; if standard error itself cannot be written
/// (closed, or a full device) the line is dropped and the exit status still tells.
func printError(_ message: String) {
  printToStandardError("error: " + message)
}

func printToStandardError(_ line: String) {
  let bytes = Array((line + "\n").utf8)
  _ = bytes.withUnsafeBytes { writeAll(STDERR_FILENO, $0) }
}

/// Set when the program started with standard output closed: its output went nowhere.
let standardOutputWasClosed = Atomic<Bool>(false)

/// Opens /dev/null on any of descriptors 0–2 that the program was started without, so that no
/// file it opens later (a checkpoint) takes descriptor 1 or 2 and receives printed text.
func guardStandardDescriptors() {
  for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 {
    _ = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY)
    if fd == STDOUT_FILENO { standardOutputWasClosed.store(true, ordering: .relaxed) }
  }
}

/// Text on standard output without a newline (the progress bar's redraws), flushed now.
func writeOut(_ text: String) {
  fputs(text, stdout)
  fflush(stdout)
}

/// Exits with `status`, or with 1 when the command succeeded but some of its standard output
/// was lost: a user who redirects to a full disk must not take the result as written.
func finish(_ status: Int32) -> Never {
  let lost = fflush(stdout) != 0 || ferror(stdout) != 0 || standardOutputWasClosed.load(ordering: .relaxed)
  if lost && status == 0 {
    printError("standard output could not be written (closed, or its disk is full): some output was lost")
    exit(1)
  }
  exit(status)
}
