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

/// Builds layers from their configs, by type name. The built-in layers are registered; a
/// layer of your own takes part in saved model configs by giving a `config` and registering
/// its type name once, before loading:
///
///     LayerRegistry.register("Scale") { config in Scale(factor: try config.float("factor")) }
public enum LayerRegistry {
  public typealias Maker = @Sendable (LayerConfig) throws -> any Layer

  private static let lock = NSLock()
  nonisolated(unsafe) private static var makers: [String: Maker] = builtInLayerMakers

  /// Registers (or replaces) how layers of type `type` are built from their config.
  public static func register(_ type: String, _ make: @escaping Maker) {
    lock.lock()
    defer { lock.unlock() }
    makers[type] = make
  }

  /// Whether layers of `type` can be built from a config.
  public static func isRegistered(_ type: String) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    return makers[type] != nil
  }

  /// A new, unbuilt layer from its config.
  public static func make(_ config: LayerConfig) throws -> any Layer {
    lock.lock()
    let maker = makers[config.type]
    lock.unlock()
    guard let maker else {
      throw LayerError("no layer type '\(config.type)' is registered (register custom layers with LayerRegistry)")
    }
    return try maker(config)
  }
}
