import CNN
import Foundation
import Tensors

/// Where `cnn pool` takes its matrix from (one of these).
let poolInputs = OptionTable([
  Option(
    "matrix", "\"ROWS\"", "rows separated by ';' or new lines, values by spaces or commas,",
    "e.g. \"1 3 2 9; 5 6 1 7; 4 2 8 6; 3 5 7 2\""),
  Option("file", "PATH", "the same format in a file"),
  Option(
    "example", "NAME", "table: the tutorials' 4x4 table; line: their 8x8 image of a", "vertical line"),
])

/// The pooling `cnn pool` applies.
let poolSettings = OptionTable([
  Option("pooling", "KIND", "max (default), average, min, mixed, lp or avgtopk"),
  Option("global", nil, "pool the whole matrix to one value (GlobalMaxPooling2D, ...)"),
  Option("pool-size", "N", "window N x N (default 2)"),
  Option("strides", "N", "step (default: the pool size, as in Keras)"),
  Option("padding", "P", "valid (default) or same"),
  Option("k", "N", "avgtopk: the mean of the k largest values (default 2)"),
  Option("p", "X", "lp: (sum of x^p)^(1/p) (default 2)"),
  Option("lambda", "X", "mixed: lambda * max + (1 - lambda) * average, 0 to 1 (default 0.5)"),
  Option(
    "detect-vertical-lines", nil, "first apply the tutorials' detector: a 3x3 convolution whose middle",
    "column is 1, then ReLU; prints its feature map too"),
])

let poolHelp = """
  usage: cnn pool [options] (--matrix "ROWS" | --file PATH | --example table|line)

  Applies one pooling to a matrix and prints the input and the result as tables: the
  tutorials' worked examples in one command each.

    cnn pool --example table                       max pooling 2x2, stride 2 (the 4x4 table)
    cnn pool --example table --pooling average     average pooling of the same table
    cnn pool --example table --global --pooling average    global average: 4.4375
    cnn pool --example line --detect-vertical-lines --pooling average
                                                   the 8x8 vertical line: detector, then pool

  input (one of):
  \(poolInputs.help)

  options:
  \(poolSettings.help)
  """

func runPool(_ raw: [String]) throws -> Int32 {
  let args = try OptionTable(poolInputs.options, poolSettings.options).parse(raw)
  let input = try poolInput(args)
  let map = args.flag("detect-vertical-lines") ? try verticalLineMap(input) : nil
  let rows = map ?? input
  let layer = try poolingLayer(args)
  var rng = SeededRandom(seed: 0)
  let shape = [rows.count, rows[0].count, 1]
  do {
    try layer.build(inputShape: shape, rng: &rng)
  } catch {
    throw CommandError(.usage, "\(error)")
  }
  print("Input (\(input.count)x\(input[0].count)):")
  print(table(input), terminator: "")
  if let map {
    print("\nVertical line detector, Conv2D 3x3 + ReLU (\(map.count)x\(map[0].count)):")
    print(table(map), terminator: "")
  }
  let out = try layer(Variable(try Tensor(shape: [1] + shape, values: rows.flatMap { $0 })))
  let width = out.shape.count == 4 ? out.shape[2] : 1
  let result = stride(from: 0, to: out.value.count, by: width).map { Array(out.value.scalars[$0..<($0 + width)]) }
  print("\n\(describe(layer)) -> (\(result.count)x\(width)):")
  print(table(result), terminator: "")
  return 0
}

/// The matrix from --matrix, --file or --example (exactly one).
func poolInput(_ args: Arguments) throws -> [[Float]] {
  let given = ["matrix", "file", "example"].filter { args.string($0) != nil }
  guard given.count == 1 else {
    throw CommandError(.usage, "give the matrix with one of --matrix, --file or --example")
  }
  if let m = args.string("matrix") { return try parseMatrix(m, source: "--matrix") }
  if let path = args.string("file") {
    let bytes: [UInt8]
    do {
      bytes = try readFile(path, what: "matrix file", limit: 64 << 20)
    } catch let e as TensorError {
      throw CommandError(.failure, e.message)
    }
    do {
      return try parseMatrix(String(decoding: bytes, as: UTF8.self), source: quoted(path))
    } catch let e as CommandError where e.kind == .usage {
      throw CommandError(.failure, e.message)
    }
  }
  switch args.string("example")! {
  case "table": return [[1, 3, 2, 9], [5, 6, 1, 7], [4, 2, 8, 6], [3, 5, 7, 2]]
  case "line": return Array(repeating: [0, 0, 0, 1, 1, 0, 0, 0], count: 8)
  case let other: throw CommandError(.usage, "unknown example \(quoted(other)); choose table or line")
  }
}

/// Rows separated by ';' or new lines, values by spaces, tabs or commas; all rows as long.
func parseMatrix(_ text: String, source: String) throws -> [[Float]] {
  let lines = text.split(whereSeparator: { $0 == ";" || $0.isNewline }).map {
    $0.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
  }.filter { !$0.isEmpty }
  guard !lines.isEmpty else { throw CommandError(.usage, "\(source) holds no numbers") }
  guard lines.count <= 1024, lines.allSatisfy({ $0.count <= 1024 }) else {
    throw CommandError(.usage, "\(source): at most 1024 rows of 1024 values")
  }
  var rows: [[Float]] = []
  for (r, line) in lines.enumerated() {
    guard line.count == lines[0].count else {
      throw CommandError(.usage, "\(source): row \(r + 1) has \(line.count) values, row 1 has \(lines[0].count)")
    }
    rows.append(
      try line.enumerated().map { c, word in
        guard isPlainDecimal(word), let v = Float(word), v.isFinite else {
          throw CommandError(
            .usage, "\(source): \(quoted(String(word))) at row \(r + 1), column \(c + 1) is not a number")
        }
        return v
      })
  }
  return rows
}

/// The pooling layer the options describe.
func poolingLayer(_ args: Arguments) throws -> any Layer {
  let name = args.string("pooling") ?? "max"
  guard let kind = PoolingKind(rawValue: name) else {
    throw CommandError(
      .usage, "unknown pooling \(quoted(name)); choose one of: \(PoolingChoice.names.joined(separator: ", "))")
  }
  let k = try args.int("k", default: 2, in: 1...16_777_216)
  let p = try args.float("p", default: 2, above: 0, atMost: 1000)
  let lambda = try args.float("lambda", default: 0.5, above: -.infinity, atMost: .infinity)
  guard (0...1).contains(lambda) else { throw CommandError(.usage, "--lambda must lie in [0, 1], got \(lambda)") }
  let settings = PoolingKind.Settings(k: k, p: p, mixing: .fixed(lambda))
  for (option, owner) in [("k", "avgtopk"), ("p", "lp"), ("lambda", "mixed")] where args.string(option) != nil {
    guard name == owner else { throw CommandError(.usage, "--\(option) goes with --pooling \(owner)") }
  }
  if args.flag("global") {
    for option in ["pool-size", "strides", "padding"] where args.string(option) != nil {
      throw CommandError(.usage, "--\(option) does not apply to --global pooling")
    }
    return kind.globalLayer(settings)
  }
  let size = try args.int("pool-size", default: 2, in: 1...1024)
  let step = try args.int("strides", default: size, in: 1...1024)
  let padding =
    try args.string("padding").map {
      guard let p = Padding(rawValue: $0) else {
        throw CommandError(.usage, "--padding is valid or same, got \(quoted($0))")
      }
      return p
    } ?? .valid
  return kind.layer(poolSize: (size, size), strides: (step, step), padding: padding, settings)
}

/// "MaxPooling2D (pool 2x2, strides 2x2, valid)", "GlobalAveragePooling2D", with k, p or λ.
func describe(_ layer: any Layer) -> String {
  var parts: [String] = []
  if let p = layer as? Pooling2D {
    parts = [
      "pool \(p.poolSize.0)x\(p.poolSize.1)", "strides \(p.strides.0)x\(p.strides.1)", p.padding.rawValue,
    ]
  }
  if let l = layer as? AvgTopKPooling2D { parts.append("k \(l.k)") }
  if let l = layer as? GlobalAvgTopKPooling2D { parts.append("k \(l.k)") }
  if let l = layer as? LpPooling2D { parts.append("p \(number(l.p))") }
  if let l = layer as? GlobalLpPooling2D { parts.append("p \(number(l.p))") }
  for mixing in [(layer as? MixedPooling2D)?.mixing, (layer as? GlobalMixedPooling2D)?.mixing] {
    if case .fixed(let l)? = mixing { parts.append("lambda \(number(l))") }
  }
  return layer.typeName + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
}

/// The seeds' vertical line detector over a one-channel matrix.
func verticalLineMap(_ rows: [[Float]]) throws -> [[Float]] {
  guard rows.count >= 3, rows[0].count >= 3 else {
    throw CommandError(
      .usage, "--detect-vertical-lines needs a matrix of at least 3x3, got \(rows.count)x\(rows[0].count)")
  }
  let conv = Conv2D(filters: 1, kernelSize: (3, 3), activation: .relu)
  var rng = SeededRandom(seed: 0)
  try conv.build(inputShape: [rows.count, rows[0].count, 1], rng: &rng)
  try conv.setWeights([
    Tensor(shape: [3, 3, 1, 1], values: [0, 1, 0, 0, 1, 0, 0, 1, 0]), Tensor(zeros: [1]),
  ])
  let y = try conv(Variable(try Tensor(shape: [1, rows.count, rows[0].count, 1], values: rows.flatMap { $0 })))
  let w = y.shape[2]
  return stride(from: 0, to: y.value.count, by: w).map { Array(y.value.scalars[$0..<($0 + w)]) }
}

/// Right-aligned columns, two spaces of indent.
func table(_ rows: [[Float]]) -> String {
  let cells = rows.map { $0.map(number) }
  let width = cells.flatMap { $0 }.map(\.count).max() ?? 1
  return cells.map { row in
    "  " + row.map { String(repeating: " ", count: width - $0.count) + $0 }.joined(separator: "  ") + "\n"
  }.joined()
}

/// 6 for 6.0, 4.4375 as is, the shortest text that reads back as the same float.
func number(_ x: Float) -> String {
  x == x.rounded() && abs(x) < 1e7 ? String(Int(x)) : "\(x)"
}
