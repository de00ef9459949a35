// The few Protocol Buffers wire-format pieces an ONNX file needs (varints, length-delimited
// fields, packed repeated numbers), written by hand: the package has no dependencies.

/// A protobuf message being written: fields appended in any order, as the format allows.
struct ProtoMessage {
  private(set) var bytes: [UInt8] = []

  private mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

  /// An integer field (int64, int32 or enum), as a varint: negative values take ten bytes.
  mutating func int(_ field: Int, _ value: Int) {
    key(field, 0)
    varint(UInt64(bitPattern: Int64(value)))
  }

  /// A float field (32-bit, little-endian).
  mutating func float(_ field: Int, _ value: Float) {
    key(field, 5)
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
  }

  /// A length-delimited field: bytes, a string or an embedded message.
  mutating func bytes(_ field: Int, _ value: [UInt8]) {
    key(field, 2)
    varint(UInt64(value.count))
    bytes += value
  }

  mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

  mutating func message(_ field: Int, _ value: ProtoMessage) { bytes(field, value.bytes) }

  /// A packed repeated integer field.
  mutating func ints(_ field: Int, _ values: [Int]) {
    var packed = ProtoMessage()
    for v in values { packed.varint(UInt64(bitPattern: Int64(v))) }
    bytes(field, packed.bytes)
  }

  /// A packed repeated float field.
  mutating func floats(_ field: Int, _ values: [Float]) {
    var packed: [UInt8] = []
    packed.reserveCapacity(4 * values.count)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { packed += $0 } }
    bytes(field, packed)
  }
}
