import Foundation
import Tensors

/// What it takes to build a layer again, as Keras's `get_config`: its registered type name,
/// its options, and for containers the layers inside. Checkpoints keep a model's as JSON,
/// so that a model defined in Swift code can be rebuilt from its checkpoint alone.
public struct LayerConfig: Codable, Equatable, Sendable {
  public var type: String
  public var options: [String: ConfigValue]
  public var layers: [LayerConfig]?

  public init(_ type: String, _ options: [String: ConfigValue] = [:], layers: [LayerConfig]? = nil) {
    self.type = type
    self.options = options
    self.layers = layers
  }

  /// An option, or an error that names the layer type and the option.
  public func value(_ key: String) throws -> ConfigValue {
    guard let v = options[key] else { throw LayerError("\(type) config lacks '\(key)'") }
    return v
  }

  public func int(_ key: String) throws -> Int {
    guard case .number(let x) = try value(key), let i = Int(exactly: x) else { throw bad(key, "a whole number") }
    return i
  }

  public func float(_ key: String) throws -> Float {
    guard case .number(let x) = try value(key) else { throw bad(key, "a number") }
    return Float(x)
  }

  public func bool(_ key: String) throws -> Bool {
    guard case .bool(let b) = try value(key) else { throw bad(key, "true or false") }
    return b
  }

  public func string(_ key: String) throws -> String {
    guard case .string(let s) = try value(key) else { throw bad(key, "a string") }
    return s
  }

  public func floats(_ key: String) throws -> [Float] {
    guard case .numbers(let xs) = try value(key) else { throw bad(key, "a list of numbers") }
    return xs.map(Float.init)
  }

  /// A (height, width) pair, stored as a list of two whole numbers.
  public func pair(_ key: String) throws -> (Int, Int) {
    let xs = try floats(key)
    guard xs.count == 2, let a = Int(exactly: xs[0]), let b = Int(exactly: xs[1]) else {
      throw bad(key, "two whole numbers")
    }
    return (a, b)
  }

  /// A value of a `String` raw-value enum (padding, activation).
  public func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws -> T
  where T.RawValue == String {
    let s = try string(key)
    guard let v = T(rawValue: s) else {
      throw bad(key, "one of " + T.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ", got '\(s)'")
    }
    return v
  }

  private func bad(_ key: String, _ expected: String) -> LayerError {
    LayerError("\(type) config: '\(key)' must be \(expected)")
  }
}

/// An option's value in a `LayerConfig`.
public enum ConfigValue: Codable, Equatable, Sendable {
  case number(Double)
  case bool(Bool)
  case string(String)
  case numbers([Double])

  public static func pair(_ p: (Int, Int)) -> ConfigValue { .numbers([Double(p.0), Double(p.1)]) }
  public static func int(_ i: Int) -> ConfigValue { .number(Double(i)) }
  public static func float(_ x: Float) -> ConfigValue { .number(Double(x)) }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let x = try? c.decode(Double.self) {
      self = .number(x)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else {
      self = .numbers(try c.decode([Double].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .number(let x): try c.encode(x)
    case .bool(let b): try c.encode(b)
    case .string(let s): try c.encode(s)
    case .numbers(let xs): try c.encode(xs)
    }
  }
}

/// A layer that checkpoints can describe and `LayerRegistry` can build again: it has a type
/// name of its own and a configuration. Most layers are `ConfigurableLayer`s, whose
/// configuration is their `Codable` properties; containers (`Sequential`, `Residual`) describe
/// the layers inside them too.
public protocol SavableLayer: Layer, SendableMetatype {
  /// The name its configs are saved under, "Conv2D", as Keras's class name.
  static var typeName: String { get }
  /// Its configuration; nil when it holds a layer that cannot be saved.
  func config() throws -> LayerConfig?
  /// A new, unbuilt layer from a configuration of its type.
  static func make(from config: LayerConfig) throws -> Self
}

extension SavableLayer {
  public var typeName: String { Self.typeName }
}

/// A layer whose hyperparameters are its `Codable` properties, coded under Keras's config
/// names (`CodingKeys`: `case kernelSize = "kernel_size"`); its weights are not among them.
/// Registered with `LayerRegistry.register(MyLayer.self)`, it is rebuilt from checkpoints.
public protocol ConfigurableLayer: SavableLayer, Codable {}

extension ConfigurableLayer {
  public func config() throws -> LayerConfig? {
    let json = try JSONEncoder().encode(self)
    return LayerConfig(Self.typeName, try JSONDecoder().decode([String: ConfigValue].self, from: json))
  }

  public static func make(from config: LayerConfig) throws -> Self {
    do {
      return try JSONDecoder().decode(Self.self, from: try JSONEncoder().encode(config.options))
    } catch let error as DecodingError {
      throw LayerError("\(typeName) config: \(describe(error))")
    }
  }
}

/// What a decoding error says, in a line.
private func describe(_ error: DecodingError) -> String {
  switch error {
  case .keyNotFound(let key, _): return "lacks '\(key.stringValue)'"
  case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
    let path = c.codingPath.map(\.stringValue).joined(separator: ".")
    return (path.isEmpty ? "" : "'\(path)' ") + c.debugDescription
  @unknown default: return "\(error)"
  }
}

extension Layer {
  /// Its configuration when it can be saved (nil otherwise): what checkpoints keep.
  public func savedConfig() throws -> LayerConfig? {
    try (self as? any SavableLayer)?.config()
  }
}

/// A (height, width) pair of a layer's options (kernel size, strides, pool size), saved as a
/// list of two whole numbers: `@Pair public private(set) var kernelSize: (Int, Int)`.
@propertyWrapper
public struct Pair: Codable, Sendable {
  public var wrappedValue: (Int, Int)

  public init(wrappedValue: (Int, Int)) {
    self.wrappedValue = wrappedValue
  }

  public init(from decoder: any Decoder) throws {
    let xs = try [Int](from: decoder)
    guard xs.count == 2 else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "must be two whole numbers, got \(xs)"))
    }
    wrappedValue = (xs[0], xs[1])
  }

  public func encode(to encoder: any Encoder) throws {
    try [wrappedValue.0, wrappedValue.1].encode(to: encoder)
  }
}
