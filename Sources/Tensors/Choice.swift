/// A string enum of options saved in configs (padding, activation, initializer): decoding an
/// unknown name is an error that lists the names there are.
public protocol Choice: CaseIterable, Codable, RawRepresentable where RawValue == String {}

extension Choice {
  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    let name = try c.decode(String.self)
    guard let value = Self(rawValue: name) else {
      let names = Self.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
      throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be one of \(names), got '\(name)'")
    }
    self = value
  }
}
