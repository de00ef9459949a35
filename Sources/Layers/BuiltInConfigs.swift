import Autograd
import Tensors

// The configs of the built-in layers: what each one saves and how it is rebuilt. Keys follow
// Keras's config names.

let builtInLayerMakers: [String: LayerRegistry.Maker] = [
  "Conv2D": { c in
    Conv2D(
      filters: try c.int("filters"), kernelSize: try c.pair("kernel_size"), strides: try c.pair("strides"),
      padding: try c.choice("padding", Padding.self), useBias: try c.bool("use_bias"),
      activation: try c.choice("activation", Activation.self),
      kernelInitializer: try c.choice("kernel_initializer", KernelInitializer.self),
      trainableKernel: try c.bool("trainable_kernel"))
  },
  "Dense": { c in
    Dense(
      units: try c.int("units"), activation: try c.choice("activation", Activation.self),
      useBias: try c.bool("use_bias"),
      kernelInitializer: c.options["kernel_initializer"] == nil
        ? .glorotUniform : try c.choice("kernel_initializer", KernelInitializer.self))
  },
  "Flatten": { _ in Flatten() },
  "ReLU": { _ in ReLU() },
  "Softmax": { _ in Softmax() },
  "GELU": { _ in GELU() },
  "Dropout": { c in Dropout(rate: try c.float("rate")) },
  "Rescaling": { c in Rescaling(scale: try c.float("scale"), offset: try c.float("offset")) },
  "BatchNormalization": { c in
    BatchNormalization(
      axis: try c.int("axis"), momentum: try c.float("momentum"), epsilon: try c.float("epsilon"),
      center: try c.bool("center"), scale: try c.bool("scale"))
  },
  "Normalization": { c in Normalization(mean: try c.floats("mean"), variance: try c.floats("variance")) },
  "MaxPooling2D": { c in
    MaxPooling2D(
      poolSize: try c.pair("pool_size"), strides: try c.pair("strides"), padding: try c.choice("padding", Padding.self))
  },
  "AveragePooling2D": { c in
    AveragePooling2D(
      poolSize: try c.pair("pool_size"), strides: try c.pair("strides"), padding: try c.choice("padding", Padding.self))
  },
  "MinPooling2D": { c in
    MinPooling2D(
      poolSize: try c.pair("pool_size"), strides: try c.pair("strides"), padding: try c.choice("padding", Padding.self))
  },
  "AvgTopKPooling2D": { c in
    AvgTopKPooling2D(
      k: try c.int("k"), poolSize: try c.pair("pool_size"), strides: try c.pair("strides"),
      padding: try c.choice("padding", Padding.self))
  },
  "LpPooling2D": { c in
    LpPooling2D(
      p: try c.float("p"), poolSize: try c.pair("pool_size"), strides: try c.pair("strides"),
      padding: try c.choice("padding", Padding.self))
  },
  "MixedPooling2D": { c in
    MixedPooling2D(
      try mixing(c), poolSize: try c.pair("pool_size"), strides: try c.pair("strides"),
      padding: try c.choice("padding", Padding.self))
  },
  "GlobalMaxPooling2D": { _ in GlobalMaxPooling2D() },
  "GlobalAveragePooling2D": { _ in GlobalAveragePooling2D() },
  "GlobalMinPooling2D": { _ in GlobalMinPooling2D() },
  "GlobalAvgTopKPooling2D": { c in GlobalAvgTopKPooling2D(k: try c.int("k")) },
  "GlobalLpPooling2D": { c in GlobalLpPooling2D(p: try c.float("p")) },
  "GlobalMixedPooling2D": { c in GlobalMixedPooling2D(try mixing(c)) },
]

extension Conv2D {
  public var config: LayerConfig? {
    LayerConfig(
      typeName,
      [
        "filters": .int(filters), "kernel_size": .pair(kernelSize), "strides": .pair(strides),
        "padding": .string(padding.rawValue), "use_bias": .bool(useBias), "activation": .string(activation.rawValue),
        "kernel_initializer": .string(kernelInitializer.rawValue),
        "trainable_kernel": .bool(trainableKernel),
      ])
  }
}

extension Dense {
  public var config: LayerConfig? {
    LayerConfig(
      typeName,
      [
        "units": .int(units), "activation": .string(activation.rawValue), "use_bias": .bool(useBias),
        "kernel_initializer": .string(kernelInitializer.rawValue),
      ])
  }
}

extension Flatten { public var config: LayerConfig? { LayerConfig(typeName) } }
extension ReLU { public var config: LayerConfig? { LayerConfig(typeName) } }
extension Softmax { public var config: LayerConfig? { LayerConfig(typeName) } }
extension GELU { public var config: LayerConfig? { LayerConfig(typeName) } }
extension GlobalMaxPooling2D { public var config: LayerConfig? { LayerConfig(typeName) } }
extension GlobalAveragePooling2D { public var config: LayerConfig? { LayerConfig(typeName) } }
extension GlobalMinPooling2D { public var config: LayerConfig? { LayerConfig(typeName) } }

extension Dropout {
  public var config: LayerConfig? { LayerConfig(typeName, ["rate": .float(rate)]) }
}

extension Rescaling {
  public var config: LayerConfig? { LayerConfig(typeName, ["scale": .float(scale), "offset": .float(offset)]) }
}

extension BatchNormalization {
  public var config: LayerConfig? {
    LayerConfig(
      typeName,
      [
        "axis": .int(axis), "momentum": .float(momentum), "epsilon": .float(epsilon), "center": .bool(center),
        "scale": .bool(scale),
      ])
  }
}

extension Normalization {
  public var config: LayerConfig? {
    LayerConfig(
      typeName, ["mean": .numbers(mean.map(Double.init)), "variance": .numbers(variance.map(Double.init))])
  }
}

extension Pooling2D {
  /// The options every windowed pooling layer has.
  var windowOptions: [String: ConfigValue] {
    ["pool_size": .pair(poolSize), "strides": .pair(strides), "padding": .string(padding.rawValue)]
  }
}

extension MaxPooling2D { public var config: LayerConfig? { LayerConfig(typeName, windowOptions) } }
extension AveragePooling2D { public var config: LayerConfig? { LayerConfig(typeName, windowOptions) } }
extension MinPooling2D { public var config: LayerConfig? { LayerConfig(typeName, windowOptions) } }

extension AvgTopKPooling2D {
  public var config: LayerConfig? { LayerConfig(typeName, windowOptions.merging(["k": .int(k)]) { a, _ in a }) }
}

extension LpPooling2D {
  public var config: LayerConfig? { LayerConfig(typeName, windowOptions.merging(["p": .float(p)]) { a, _ in a }) }
}

extension MixedPooling2D {
  public var config: LayerConfig? {
    LayerConfig(typeName, windowOptions.merging(mixingOptions(mixing)) { a, _ in a })
  }
}

extension GlobalAvgTopKPooling2D {
  public var config: LayerConfig? { LayerConfig(typeName, ["k": .int(k)]) }
}

extension GlobalLpPooling2D {
  public var config: LayerConfig? { LayerConfig(typeName, ["p": .float(p)]) }
}

extension GlobalMixedPooling2D {
  public var config: LayerConfig? { LayerConfig(typeName, mixingOptions(mixing)) }
}

private func mixingOptions(_ m: Mixing) -> [String: ConfigValue] {
  switch m {
  case .learned(let perChannel, let initial):
    return ["mixing": .string("learned"), "per_channel": .bool(perChannel), "initial": .float(initial)]
  case .random: return ["mixing": .string("random")]
  case .fixed(let l): return ["mixing": .string("fixed"), "lambda": .float(l)]
  }
}

private func mixing(_ c: LayerConfig) throws -> Mixing {
  switch try c.string("mixing") {
  case "learned": return .learned(perChannel: try c.bool("per_channel"), initial: try c.float("initial"))
  case "random": return .random
  case "fixed": return .fixed(try c.float("lambda"))
  case let other: throw LayerError("\(c.type) config: unknown mixing '\(other)'")
  }
}
