// swift-tools-version:6.0
// A minimal CNN training framework in Swift: the toolchain only, no package dependencies.
import PackageDescription

/// Kernels need AVX2 + FMA code generation: plain `-O` emits SSE only and turns every
/// `SIMD8<Float>.addingProduct` into eight calls to `fmaf` (about 100x slower).
/// `Scripts/check-fma.sh` (run by CI) fails the build if this is ever lost.
let kernelFlags: [SwiftSetting] = [
  .unsafeFlags(["-target-cpu", "haswell"]),
  .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
  name: "CNN",
  products: [
    .library(name: "CNN", targets: ["CNN"]),
    .executable(name: "cnn", targets: ["CNNCommand"]),
  ],
  targets: [
    .target(name: "Tensors", dependencies: ["TensorsAVX512"], swiftSettings: kernelFlags),
    // Compiled for AVX-512 and called only when the processor has it (Tensors/CPU.swift).
    .target(
      name: "TensorsAVX512",
      swiftSettings: [
        .unsafeFlags(["-target-cpu", "skylake-avx512"]),
        .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
      ]),
    .target(name: "Autograd", dependencies: ["Tensors"], swiftSettings: kernelFlags),
    .target(name: "Layers", dependencies: ["Tensors", "Autograd"], swiftSettings: kernelFlags),
    .target(name: "Optimizers", dependencies: ["Tensors", "Autograd"], swiftSettings: kernelFlags),
    .target(name: "Datasets", dependencies: ["Tensors"], swiftSettings: kernelFlags),
    .target(
      name: "Models", dependencies: ["Tensors", "Autograd", "Layers", "Optimizers", "Datasets"],
      swiftSettings: kernelFlags),
    .target(
      name: "CNN", dependencies: ["Tensors", "Autograd", "Layers", "Optimizers", "Datasets", "Models"]),
    .executableTarget(name: "CNNCommand", dependencies: ["CNN", "Tensors"], swiftSettings: kernelFlags),
    .executableTarget(name: "DefineModelExample", dependencies: ["CNN"]),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
    .testTarget(name: "AutogradTests", dependencies: ["Tensors", "Autograd"]),
    .testTarget(name: "LayersTests", dependencies: ["Tensors", "Autograd", "Layers"]),
    .testTarget(name: "OptimizersTests", dependencies: ["Tensors", "Autograd", "Optimizers"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Tensors", "Datasets"]),
    .testTarget(name: "ModelsTests", dependencies: ["CNN"]),
    .testTarget(name: "CommandTests", dependencies: ["CNN", "CNNCommand"]),
  ],
  swiftLanguageModes: [.v5]
)
