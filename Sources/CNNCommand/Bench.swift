import CNN
import Foundation

let benchHelp = """
  usage: cnn bench [options]

  Measures this machine: FMA probe peak, GEMM GFLOP/s, and the seed model's training and
  inference images/s. Build with 'swift build -c release' first.

  options:
    --threads N   threads, 1 to the number of cores (default: all)
  """

func runBench(_ raw: [String]) throws -> Int32 {
  let args = try Arguments(raw, options: ["threads"], flags: [])
  Threads.count = try args.threads()
  print("bench: not yet implemented")
  return 1
}
