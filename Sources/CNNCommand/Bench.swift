import CNN
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

let benchOptions = OptionTable([
  Option("threads", "N", "threads for GEMM and the model, 1 to the number of cores (default: all)"),
  Option(
    "steps", "N", "steps timed per batch size, in 5 windows (default 100; with --model", "5, with --convolutions 3)"),
  Option("model", "NAME", "a zoo model to time instead of the seed model and the GEMM shapes"),
  Option("convolutions", nil, "time the fast recipe's convolution shapes instead"),
  Option("batch-size", "N", "with --model or --convolutions: images per step (default 1024)"),
])

let benchHelp = """
  usage: cnn bench [options]

  Measures this machine in one run: the FMA probe peak (1 and 2 threads) of the SIMD
  kernels in use (AVX-512 where the processor has it, else AVX2; CNN_SIMD=avx2 forces
  AVX2), GEMM GFLOP/s at 256³, 1024³ and the seed model's convolution shapes, the seed
  model's training and inference images/s at batch 32 and 128 (each also as a fraction of
  the probe peak), and peak resident memory. On an AVX-512 machine the AVX2 kernels' GEMM
  and seed model figures are printed beside its own. The probe is the best of 6 runs (3 before
  the GEMMs, 3 after) and each GEMM the best of 15 (3 rounds over all shapes, 5 timings
  each); the model's images/s are the median of 5 timed windows. Build with
  'swift build -c release' first; quote medians of runs.

  Every run prints the core's cache sizes and the GEMM tiling derived from them.
  CNN_CACHE=l2=512K (or l1=..., l3=..., comma-separated) runs another machine's tiling
  here; the tiling never changes a result, only the speed.

  With --model NAME (fast93, fast94, seed, tiny) it measures that model instead: the probe,
  then training steps on random images at --batch-size (default 1024), with images/s, the
  GFLOP/s and fraction of the probe peak of its convolutions and dense layers, the share of
  the threads' time spent in GEMMs, and peak resident memory. The model's GFLOP/s count
  a direct convolution's FLOPs, also where a layer runs by Winograd's algorithm.

  With --convolutions it times the fast recipe's 3x3 convolution shapes at --batch-size
  (default 1024) by the direct path and by Winograd F(2x2,3x3) and F(4x4,3x3): effective
  GFLOP/s (direct FLOPs over the time) of the forward pass, the weight gradient and the
  input gradient, each the best of --steps (default 3), and each Winograd output's error
  against the direct one. Convolutions pick their algorithm by a rule (README, "Speed");
  CNN_CONV=direct, f2 or f4 overrides it.

  options:
  \(benchOptions.help)
  """

/// FLOPs of one image through the seed model: forward, and training (forward, weight
/// gradients, input gradients but the first layer's).
let conv1FLOP: Double = 2 * 30 * 30 * 32 * 27
let seedForwardFLOP: Double = conv1FLOP + 2 * 13 * 13 * 64 * 288 + 2 * 2304 * 64 + 2 * 64 * 10
let seedTrainFLOP: Double = 3 * seedForwardFLOP - conv1FLOP

/// The caches per core and the GEMM tiling derived from them.
var cachesLine: String {
  let c = CacheSizes.detected
  return "caches per core: L1d \(c.l1 >> 10) KiB, L2 \(c.l2 >> 10) KiB, L3 \(c.l3 >> 20) MiB (\(c.source)); "
    + "GEMM tiling: \(GEMMTiling.current)"
}

func runBench(_ raw: [String]) throws -> Int32 {
  let args = try benchOptions.parse(raw)
  let threads = try args.threads()
  if args.flag("convolutions") && args.string("model") != nil {
    throw CommandError(.usage, "--convolutions and --model are separate benchmarks; give one")
  }
  let focused = args.string("model") != nil || args.flag("convolutions")
  let steps = try args.int("steps", default: focused ? (args.flag("convolutions") ? 3 : 5) : 100, in: 1...100_000)
  if focused {
    let batch = try args.int("batch-size", default: 1024, in: 1...65_536)
    Threads.count = threads
    let kernel = SIMDKernel.current
    let peak = (0..<3).map { _ in fmaProbePeak(threads: threads, kernel: kernel) }.max()!
    print(String(format: "cnn bench: %@ kernels, %d threads, probe peak %.1f GFLOP/s", "\(kernel)", threads, peak))
    print(cachesLine)
    if args.flag("convolutions") {
      try runConvolutionBench(batch: batch, steps: steps, peak: peak)
    } else {
      try runModelBench(args.model(), batch: batch, steps: steps, peak: peak)
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print(String(format: "\npeak resident memory: %.0f MB", Double(usage.ru_maxrss) / 1024))
    return 0
  }
  if args.string("batch-size") != nil { throw CommandError(.usage, "--batch-size goes with --model or --convolutions") }

  let kernel = SIMDKernel.current
  print("cnn bench: \(Threads.available) cores available, using \(threads) threads, \(kernel) kernels")
  print(cachesLine)
  Threads.count = threads
  // On an AVX-512 machine the AVX2 kernels run beside its own: an AVX2 machine's kernels
  // (not its caches: CNN_CACHE imitates those).
  let kernels = kernel == .avx512 ? [kernel, .avx2] : [kernel]
  defer { SIMDKernel.current = kernel }
  func probe(_ t: Int, _ k: SIMDKernel) -> Double { (0..<3).map { _ in fmaProbePeak(threads: t, kernel: k) }.max()! }
  let before = (probe(1, kernel), probe(2, kernel))
  let gemms = timeGEMMShapes(kernels)
  // The probe again after the GEMMs, keeping the higher: on a shared host a neighbour's burst
  // during one probe would otherwise lower the peak and raise every fraction below.
  let peak1 = max(before.0, probe(1, kernel))
  let peak2 = max(before.1, probe(2, kernel))
  var peaks = [threads == 1 ? peak1 : peak2]
  print(String(format: "probe peak (\(kernel) FMA loop): %.1f GFLOP/s on 1 thread, %.1f on 2", peak1, peak2))
  // Two idle cores give twice one core's peak; much less means something else ran.
  if Threads.available >= 2 && peak2 < 1.8 * peak1 {
    print(
      String(
        format:
          "  warning: 2 threads reached only %.2f× one thread's peak: another process is using the cores, so the figures below are unreliable",
        peak2 / peak1))
  }
  if kernel == .avx512 {
    let avx2 = (probe(1, .avx2), probe(2, .avx2))
    peaks.append(threads == 1 ? avx2.0 : avx2.1)
    print(String(format: "  (AVX2 FMA loop, for comparison: %.1f on 1 thread, %.1f on 2)", avx2.0, avx2.1))
  }
  let columns = kernels.map { "\($0) kernels".padding(toLength: 22, withPad: " ", startingAt: 0) }
    .joined(separator: "   ").trimmingCharacters(in: .whitespaces)
  print("\nGEMM (C = A·B, row-major), GFLOP/s and fraction of the probe peak:")
  print("  " + "".padding(toLength: 30, withPad: " ", startingAt: 0) + columns)
  for (name, rates) in gemms {
    let label = name.padding(toLength: 30, withPad: " ", startingAt: 0)
    print(
      "  " + label
        + zip(rates, peaks).map { String(format: "%7.1f GFLOP/s %5.1f%%", $0, 100 * $0 / $1) }
        .joined(separator: "   "))
  }
  print(
    "\nSeed model (\(String(format: "%.1f", seedTrainFLOP / 1e6)) MFLOP per training image, \(String(format: "%.1f", seedForwardFLOP / 1e6)) per inference):"
  )
  for (k, peak) in zip(kernels, peaks) {
    SIMDKernel.current = k
    if kernels.count > 1 { print("  \(k) kernels") }
    for batch in [32, 128] {
      let (train, infer) = try timeSeedModel(batch: batch, steps: steps)
      print(
        String(
          format: "  batch %3d: training %6.0f images/s (%5.1f GFLOP/s, %4.1f%% of peak)", batch, train,
          train * seedTrainFLOP / 1e9, 100 * train * seedTrainFLOP / 1e9 / peak))
      print(
        String(
          format: "             inference %6.0f images/s (%5.1f GFLOP/s, %4.1f%% of peak)", infer,
          infer * seedForwardFLOP / 1e9, 100 * infer * seedForwardFLOP / 1e9 / peak))
    }
  }
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  print(String(format: "\npeak resident memory: %.0f MB", Double(usage.ru_maxrss) / 1024))
  return 0
}

/// GFLOP/s of the bench's GEMM shapes with each of `kernels`, the best of 3 rounds over all
/// the shapes: like the probe's runs, the samples are spread over the run, so a neighbour's
/// burst during one round costs that round only.
func timeGEMMShapes(_ kernels: [SIMDKernel]) -> [(String, [Double])] {
  let shapes: [(String, Int, Int, Int, Bool, Bool)] = [
    ("256³", 256, 256, 256, false, false),
    ("1024³", 1024, 1024, 1024, false, false),
    ("conv1 forward  (28800×32×27)", 28800, 32, 27, false, false),
    ("conv1 dW       (27×32×28800)", 27, 32, 28800, true, false),
    ("conv2 forward  (5408×64×288)", 5408, 64, 288, false, false),
    ("conv2 dW       (288×64×5408)", 288, 64, 5408, true, false),
    ("conv2 dX       (5408×288×64)", 5408, 288, 64, false, true),
  ]
  var gemms = shapes.map { ($0.0, [Double](repeating: 0, count: kernels.count)) }
  for _ in 0..<3 {
    for (i, (_, m, n, k, ta, tb)) in shapes.enumerated() {
      for (j, kernel) in kernels.enumerated() {
        SIMDKernel.current = kernel
        gemms[i].1[j] = max(gemms[i].1[j], timeGEMM(m: m, n: n, k: k, transA: ta, transB: tb))
      }
    }
  }
  return gemms
}

func timeGEMM(m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> Double {
  let a = Tensor(shape: [m * k], repeating: 0.5)
  let b = Tensor(shape: [k * n], repeating: 0.25)
  let c = Tensor(zeros: [m * n])
  let flop = 2.0 * Double(m * n * k)
  let reps = max(1, Int(2e9 / flop))
  var best = Double.infinity
  for _ in 0..<5 {
    let start = Date()
    for _ in 0..<reps {
      gemm(
        m: m, n: n, k: k, a: a.data, lda: transA ? m : k, transA: transA, b: b.data, ldb: transB ? k : n,
        transB: transB, c: c.data, ldc: n, accumulate: false)
    }
    best = min(best, Date().timeIntervalSince(start) / Double(reps))
  }
  return flop / best / 1e9
}

/// Images/s of training steps and of inference on random images, after a warm-up: the median
/// of 5 timed windows of steps/5 steps each.
func timeSeedModel(batch: Int, steps: Int) throws -> (train: Double, inference: Double) {
  let model = try Zoo.model("seed")
  model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(fromLogits: false))
  var rng = SeededRandom(seed: 1)
  let x = Tensor(uninitialized: [batch, 32, 32, 3])
  for i in 0..<x.count { x[i] = rng.nextFloat() }
  let labels = (0..<batch).map { _ in rng.nextInt(below: 10) }
  for _ in 0..<5 { _ = try model.trainStep(x, labels: labels) }
  // The steps are timed in 5 windows and the median window is reported, so that a burst
  // from a neighbour on a shared host moves one window, not the figure.
  let windows = 5
  let window = max(1, steps / windows)
  func medianRate(_ body: () throws -> Void) rethrows -> Double {
    var rates: [Double] = []
    for _ in 0..<windows {
      let start = Date()
      for _ in 0..<window { try body() }
      rates.append(Double(window * batch) / Date().timeIntervalSince(start))
    }
    return rates.sorted()[windows / 2]
  }
  let train = try medianRate { _ = try model.trainStep(x, labels: labels) }
  _ = try model.predict(x)
  let infer = try medianRate { _ = try model.predict(x) }
  return (train, infer)
}
