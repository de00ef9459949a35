import Foundation
import Tensors
let n = Int(CommandLine.arguments.dropFirst().first ?? "1024")!
let a = Tensor(shape: [n, n], repeating: 0.5), b = Tensor(shape: [n, n], repeating: 0.25), c = Tensor(zeros: [n, n])
for t in [1, 2] {
  Threads.count = t
  var best = 1e9
  for _ in 0..<5 {
    let s = Date()
    gemm(m: n, n: n, k: n, a: a.data, lda: n, transA: false, b: b.data, ldb: n, transB: false, c: c.data, ldc: n, accumulate: false)
    best = min(best, Date().timeIntervalSince(s))
  }
  print(t, 2.0 * Double(n*n*n) / best / 1e9, c[0])
}
