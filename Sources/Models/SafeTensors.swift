import Autograd
import Datasets
import Foundation
import Layers
import Optimizers
import Tensors

/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// ({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}),
/// then the raw little-endian data, offsets relative to its start. Only F32 is written or read.
///
/// The reader trusts nothing: it bounds the header length, checks the JSON's types, the
/// dtypes, that every shape's byte size equals its offsets' span and that every span lies
/// inside the file.
public enum SafeTensors {
  /// Largest header accepted (bytes).
  public static let maxHeaderLength = 100_000_000

  /// Encodes tensors (sorted by name) and string metadata.
  public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> [UInt8] {
    let names = tensors.keys.sorted()
    var offset = 0
    var entries: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }
      entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
    }
    for name in names {
      let t = tensors[name]!
      let bytes = t.count * 4
      entries.append(
        "\(quote(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
      )
      offset += bytes
    }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    var out: [UInt8] = []
    out.reserveCapacity(8 + header.count + offset)
    var n = UInt64(header.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(contentsOf: header)
    for name in names {
      let t = tensors[name]!
      for i in 0..<t.count {
        var bits = t.data[i].bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
      }
    }
    return out
  }

  /// Decodes and validates a whole file's bytes.
  public static func decode(_ bytes: [UInt8]) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
    let (object, headerEnd) = try header(bytes)
    let dataLength = bytes.count - headerEnd
    let metadata = try metadata(in: object)
    var entries: [Entry] = []
    for (name, value) in object where name != "__metadata__" {
      entries.append(try entry(name, value, dataLength: dataLength))
    }
    // The layout is checked before any tensor is allocated: spans that overlap could
    // otherwise ask for far more memory than the file holds.
    try checkLayout(entries.map { ($0.name, $0.begin, $0.end) }, dataLength: dataLength)
    var tensors: [String: Tensor] = [:]
    bytes.withUnsafeBufferPointer { src in
      for e in entries {
        let t = Tensor(uninitialized: e.shape)
        let base = src.baseAddress! + headerEnd + e.begin
        for i in 0..<((e.end - e.begin) / 4) {
          var bits: UInt32 = 0
          for b in 0..<4 { bits |= UInt32(base[i * 4 + b]) << (8 * UInt32(b)) }
          t.data[i] = Float(bitPattern: bits)
        }
        tensors[e.name] = t
      }
    }
    return (tensors, metadata)
  }

  /// The header of a file whose first bytes (at least the header) are `bytes`: its JSON object
  /// and where the data begins.
  static func header(_ bytes: [UInt8]) throws -> (object: [String: Any], headerEnd: Int) {
    guard bytes.count >= 8 else {
      throw ModelError("file of \(bytes.count) bytes is too short for a safetensors header")
    }
    var n: UInt64 = 0
    for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    guard n <= UInt64(maxHeaderLength), Int(n) <= bytes.count - 8 else {
      throw ModelError(
        "header length \(n) is larger than the file (\(bytes.count) bytes) allows: truncated or not safetensors")
    }
    let headerEnd = 8 + Int(n)
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
    } catch {
      throw ModelError("header is not valid JSON")
    }
    guard let object = json as? [String: Any] else { throw ModelError("header is not a JSON object") }
    return (object, headerEnd)
  }

  /// The string metadata of a parsed header.
  static func metadata(in object: [String: Any]) throws -> [String: String] {
    var metadata: [String: String] = [:]
    guard let value = object["__metadata__"] else { return metadata }
    guard let m = value as? [String: Any] else { throw ModelError("__metadata__ is not an object") }
    for (k, v) in m {
      guard let s = v as? String else { throw ModelError("metadata value for \(k) is not a string") }
      metadata[k] = s
    }
    return metadata
  }

  /// A file's metadata alone, reading only its header: what a command needs to know of a
  /// checkpoint (its model, its run's settings) before loading the tensors.
  public static func readMetadata(_ path: String) throws -> [String: String] {
    do {
      let head = try readFile(path, what: "checkpoint", prefix: 8)
      var n = 0
      if head.count == 8 { for i in 0..<8 { n |= Int(head[i]) << (8 * i) } }
      let bytes = try readFile(path, what: "checkpoint", prefix: 8 + Swift.min(Swift.max(n, 0), maxHeaderLength))
      return try metadata(in: header(bytes).object)
    } catch let e as TensorError {
      throw ModelError(e.message)
    } catch let e as ModelError {
      throw ModelError("checkpoint \(quoted(path)): \(e.message)")
    }
  }

  /// One tensor's header entry, validated: F32, a shape whose byte size equals its span, the
  /// span inside the data.
  struct Entry {
    let name: String
    let shape: [Int]
    let begin: Int
    let end: Int
  }

  static func entry(_ name: String, _ value: Any, dataLength: Int) throws -> Entry {
    guard let entry = value as? [String: Any] else { throw ModelError("entry \(name) is not an object") }
    guard let dtype = entry["dtype"] as? String else { throw ModelError("entry \(name) has no dtype") }
    guard dtype == "F32" else { throw ModelError("tensor \(name) has dtype \(dtype); only F32 is supported") }
    guard let shapeValues = entry["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 })
    else { throw ModelError("tensor \(name) has no valid shape") }
    guard let offsetValues = entry["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2
    else { throw ModelError("tensor \(name) has no valid data_offsets") }
    let (begin, end) = (offsets[0], offsets[1])
    guard begin >= 0, begin <= end, end <= dataLength else {
      throw ModelError("tensor \(name) spans bytes \(begin)..<\(end), outside the \(dataLength) data bytes")
    }
    var count = 1
    for d in shape {
      let (p, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow, p <= dataLength else { throw ModelError("tensor \(name) has an impossible shape \(shape)") }
      count = p
    }
    guard count * 4 == end - begin else {
      throw ModelError("tensor \(name) of shape \(shape) needs \(count * 4) bytes, its offsets span \(end - begin)")
    }
    return Entry(name: name, shape: shape, begin: begin, end: end)
  }

  /// Writes atomically: a temporary file beside `path`, flushed to disk, then renamed over it,
  /// so a crash mid-write leaves the old file whole.
  public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
    let bytes = encode(tensors, metadata: metadata)
    do {
      try writeAtomically(bytes, to: path, what: "checkpoint")
    } catch let e as TensorError {
      throw ModelError(e.message)
    }
  }

  public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
    let bytes: [UInt8]
    do {
      bytes = try readFile(path, what: "checkpoint", limit: 1 << 30)
    } catch let e as TensorError {
      throw ModelError(e.message)
    }
    do {
      return try decode(bytes)
    } catch let e as ModelError {
      throw ModelError("checkpoint \(quoted(path)): \(e.message)")
    }
  }

  /// The format's layout rule: the tensors' byte spans tile the data exactly, from its first
  /// byte to its last, with no gap and no overlap (so no byte can load as two tensors).
  static func checkLayout(_ spans: [(name: String, begin: Int, end: Int)], dataLength: Int) throws {
    var position = 0
    var previous: String?
    for s in spans.sorted(by: { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }) {
      if s.begin < position {
        throw ModelError(
          "tensor \(s.name) spans bytes \(s.begin)..<\(s.end), overlapping \(previous ?? "another tensor")")
      }
      if s.begin > position {
        throw ModelError("bytes \(position)..<\(s.begin) belong to no tensor (before \(s.name))")
      }
      position = s.end
      previous = s.name
    }
    if position != dataLength {
      throw ModelError("bytes \(position)..<\(dataLength) at the end belong to no tensor")
    }
  }

  private static func integers(_ values: [Any]) -> [Int]? {
    var out: [Int] = []
    for v in values {
      guard let num = v as? NSNumber else { return nil }
      let d = num.doubleValue
      guard d.rounded() == d, abs(d) < 1e15 else { return nil }
      out.append(Int(d))
    }
    return out
  }

  private static func quote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
      default: out.unicodeScalars.append(u)
      }
    }
    return out + "\""
  }
}
