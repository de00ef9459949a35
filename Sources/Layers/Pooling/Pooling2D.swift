import Autograd
import Tensors

/// What a windowed pooling layer is configured with: pool size ((2, 2) by default), strides
/// (defaulting to the pool size, as in Keras) and valid or same padding: the options every
/// windowed pooling layer saves.
public class Pooling2D: Codable {
  @Pair public private(set) var poolSize: (Int, Int)
  @Pair public private(set) var strides: (Int, Int)
  public let padding: Padding

  enum CodingKeys: String, CodingKey {
    case poolSize = "pool_size", strides, padding
  }

  public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
    self.poolSize = poolSize
    self.strides = strides ?? poolSize
    self.padding = padding
  }

  /// An option a subclass saves beside the window's ("k", "p").
  static func decodeOption<T: Decodable>(_ name: String, from decoder: any Decoder) throws -> T {
    try decoder.container(keyedBy: OptionKey.self).decode(T.self, forKey: OptionKey(name))
  }

  static func encodeOption<T: Encodable>(_ value: T, _ name: String, to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: OptionKey.self)
    try c.encode(value, forKey: OptionKey(name))
  }

  func poolOutputShape(_ s: [Int], _ name: String) throws -> [Int] {
    let (h, w) = try windowOutputSize(s, "pool", poolSize, strides, padding, name)
    return [h, w, s[2]]
  }
}

/// A global pooling as the windowed one over the whole image, reshaped to [N, C].
func globalPool(_ x: Variable, _ layer: String, _ op: ((Int, Int)) throws -> Variable) throws -> Variable {
  try checkBatch(x, rank: 3, layer)
  return try reshape(try op((x.shape[1], x.shape[2])), to: [x.shape[0], x.shape[3]])
}

func checkTopK(_ k: Int, cells: Int, window: String, _ layer: String) throws {
  guard k >= 1 else { throw LayerError("\(layer): k must be at least 1, got \(k)") }
  guard k <= cells else { throw LayerError("\(layer): k \(k) is larger than \(window) (\(cells) cells)") }
}

func checkPower(_ p: Float, _ layer: String) throws {
  guard p > 0, p.isFinite else { throw LayerError("\(layer): p must be a finite number above 0, got \(p)") }
}

/// A config key by its name.
struct OptionKey: CodingKey {
  let stringValue: String
  var intValue: Int? { nil }
  init(_ name: String) { stringValue = name }
  init?(stringValue: String) { self.init(stringValue) }
  init?(intValue: Int) { nil }
}
