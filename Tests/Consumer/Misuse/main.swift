// A consumer that reaches for the framework's kernels: it must not compile, because `import
// CNN` exports the framework (tensors, layers, models), not its pointer-level routines.
import CNN

var c: [Float] = [0]
let a: [Float] = [1]
gemm(m: 1, n: 1, k: 1, a: a, lda: 1, transA: false, b: a, ldb: 1, transB: false, c: &c, ldc: 1, accumulate: false)
Threads.count = 1
