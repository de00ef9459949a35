// swift-tools-version:6.0
// A minimal CNN training framework in Swift: the toolchain only, no package dependencies.
import PackageDescription

/// Native x86-64 code generation: AVX2 + FMA for every module, AVX-512 for the module of
/// AVX-512 kernels, `-Ounchecked` in release. Plain `-O` on x86-64 emits SSE only and turns
/// every `SIMD8<Float>.addingProduct` into eight calls to `fmaf` (about 100x slower);
/// `Scripts/check-fma.sh` (run by CI) fails the build if this is ever lost.
///
/// These are unsafe flags, which SwiftPM refuses in a package used as a version dependency.
/// They apply on x86-64 hosts when this package is built as the root package or by path, and
/// never inside a dependency checkout (`.../checkouts/...`, `.../registry/downloads/...`)
/// unless `CNN_NATIVE=1` asks for them (a branch or revision dependency allows them).
/// `CNN_NATIVE=0` turns them off everywhere; a build for another architecture than the host's
/// (cross-compiling) needs it, since the host decides here.
/// Without them the build uses the portable kernels (Swift SIMD types only; NEON on arm64).
#if arch(x86_64)
  let x86Host = true
#else
  let x86Host = false
#endif
let nativeRequest = Context.environment["CNN_NATIVE"]
let isCheckout = ["/checkouts/", "/registry/downloads/"].contains { Context.packageDirectory.contains($0) }
let native = x86Host && (nativeRequest == "1" || (nativeRequest != "0" && !isCheckout))

func settings(cpu: String) -> [SwiftSetting] {
  guard native else { return [] }
  return [
    .unsafeFlags(["-target-cpu", cpu]),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    .define("CNN_X86_NATIVE"),
  ]
}
let kernelFlags = settings(cpu: "haswell")

let package = Package(
  name: "CNN",
  products: [
    .library(name: "CNN", targets: ["CNN"]),
    .executable(name: "cnn", targets: ["CNNCommand"]),
  ],
  targets: [
    .target(name: "Tensors", dependencies: ["TensorsAVX512"], swiftSettings: kernelFlags),
    // The AVX-512 kernels, called only when the processor has AVX-512 (Tensors/CPU.swift);
    // empty unless the native flags apply.
    .target(name: "TensorsAVX512", swiftSettings: settings(cpu: "skylake-avx512")),
    .target(name: "Autograd", dependencies: ["Tensors"], swiftSettings: kernelFlags),
    .target(name: "Layers", dependencies: ["Tensors", "Autograd"], swiftSettings: kernelFlags),
    .target(name: "Optimizers", dependencies: ["Tensors", "Autograd"], swiftSettings: kernelFlags),
    .target(name: "Datasets", dependencies: ["Tensors"], swiftSettings: kernelFlags),
    .target(
      name: "Models", dependencies: ["Tensors", "Autograd", "Layers", "Optimizers", "Datasets"],
      swiftSettings: kernelFlags),
    // Data-parallel training's MPI binding, opened at run time: nothing MPI is linked.
    .target(name: "Distributed", dependencies: ["Autograd"]),
    .target(
      name: "CNN", dependencies: ["Tensors", "Autograd", "Layers", "Optimizers", "Datasets", "Models", "Distributed"]),
    .executableTarget(name: "CNNCommand", dependencies: ["CNN", "Tensors"], swiftSettings: kernelFlags),
    .executableTarget(name: "DefineModelExample", dependencies: ["CNN"]),
    .executableTarget(name: "RecipeExample", dependencies: ["CNN"]),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
    .testTarget(name: "AutogradTests", dependencies: ["Tensors", "Autograd"]),
    .testTarget(name: "LayersTests", dependencies: ["Tensors", "Autograd", "Layers"]),
    .testTarget(name: "OptimizersTests", dependencies: ["Tensors", "Autograd", "Optimizers"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Tensors", "Datasets"], exclude: ["Fixtures"]),
    .testTarget(name: "ModelsTests", dependencies: ["CNN"]),
    .testTarget(name: "CommandTests", dependencies: ["CNN", "CNNCommand"], exclude: ["Fixtures"]),
    // Written as a user of the library would: `import CNN` only.
    .testTarget(name: "ExtensionTests", dependencies: ["CNN"]),
  ],
  swiftLanguageModes: [.v6]
)
