// Area-averaging resize, fed one source row at a time: a decoder hands over each row as it is
// decoded, so an image is resized while it is read and only the target's sums are held, never
// the whole source (a 50-megapixel photo resized to 32x32 needs a row of it, not 150 MB).

extension PixelImage {
  /// The image at `height` × `width`, each new pixel the mean of the area of the old image it
  /// covers (partly covered pixels weighted by the part), with 1 or 3 channels (gray becomes
  /// RGB by repetition, RGB becomes gray by the ITU-R BT.601 luma weights).
  public func resized(height h: Int, width w: Int, channels c: Int) throws -> PixelImage {
    var rows = try ImageRows(width: width, height: height, channels: channels, target: (h, w, c))
    for y in 0..<height {
      pixels.withUnsafeBufferPointer {
        rows.add(UnsafeBufferPointer(rebasing: $0[(y * width * channels)...].prefix(width * channels)))
      }
    }
    return try rows.finish()
  }
}

/// Where a decoder puts its rows, top to bottom: kept as they are, or area-averaged into a
/// target size as they arrive.
struct ImageRows {
  let width: Int, height: Int, channels: Int
  private let target: (height: Int, width: Int, channels: Int)
  private let resize: Bool
  private var y = 0
  /// Whole: the pixels. Resized: nothing (the sums hold the rows).
  private var pixels: [UInt8] = []
  /// Resized: the weighted sum of each target cell, in Double, and the source-row weights.
  private var sums: [Double] = []
  private var row: [Double] = []
  private let horizontal: AreaWeights
  private let vertical: [[(Int, Double)]]

  init(width: Int, height: Int, channels: Int, target: (Int, Int, Int)) throws {
    let (h, w, c) = target
    guard h > 0, w > 0, c == 1 || c == 3, h <= ImageLimits.side, w <= ImageLimits.side,
      h * w <= ImageLimits.wholePixels
    else {
      throw ImageFileError("cannot resize to \(h)x\(w)x\(c)")
    }
    (self.width, self.height, self.channels, self.target) = (width, height, channels, (h, w, c))
    resize = (h, w, c) != (height, width, channels)
    horizontal = AreaWeights(from: resize ? width : 0, to: resize ? w : 0)
    // For each source row, the target rows it falls in with their weights, in target-row order.
    var byRow = [[(Int, Double)]](repeating: [], count: resize ? height : 0)
    if resize {
      for (oy, cells) in areaWeights(from: height, to: h).enumerated() {
        for (sy, weight) in cells { byRow[sy].append((oy, weight)) }
      }
      sums = [Double](repeating: 0, count: h * w * channels)
      row = [Double](repeating: 0, count: w * channels)
    } else {
      pixels.reserveCapacity(width * height * channels)
    }
    vertical = byRow
  }

  /// The next source row, `width * channels` samples.
  mutating func add(_ source: UnsafeBufferPointer<UInt8>) {
    // Rows past the height or of another length would index outside the sums: never added.
    guard y < height, source.count == width * channels else { return }
    defer { y += 1 }
    guard resize else {
      pixels += source
      return
    }
    for i in row.indices { row[i] = 0 }
    horizontal.accumulate(source, channels: channels, into: &row)
    let w = target.width
    for (oy, wy) in vertical[y] {
      let base = oy * w * channels
      for i in row.indices { sums[base + i] += wy * row[i] }
    }
  }

  /// The finished image; every row must have been added.
  func finish() throws -> PixelImage {
    guard y == height else { throw ImageFileError("the image ends after \(y) of its \(height) rows") }
    guard resize else { return try PixelImage(width: width, height: height, channels: channels, pixels: pixels) }
    let (h, w, c) = target
    var out = [UInt8](repeating: 0, count: h * w * c)
    func byte(_ v: Double) -> UInt8 { UInt8(min(255, max(0, v.rounded()))) }
    for cell in 0..<(h * w) {
      let at = cell * channels
      if c == channels {
        for k in 0..<c { out[cell * c + k] = byte(sums[at + k]) }
      } else if c == 3 {
        for k in 0..<3 { out[cell * 3 + k] = byte(sums[at]) }
      } else {
        out[cell] = byte(0.299 * sums[at] + 0.587 * sums[at + 1] + 0.114 * sums[at + 2])
      }
    }
    return try PixelImage(width: w, height: h, channels: c, pixels: out)
  }
}

/// For each of `m` output cells over `n` input cells, flattened: output `o` covers inputs
/// `index[start[o]..<start[o+1]]` with weights `weight[...]`, each the fraction of the output
/// cell the input fills.
private struct AreaWeights {
  var start: [Int] = [0]
  var index: [Int] = []
  var weight: [Double] = []

  init(from n: Int, to m: Int) {
    for cells in areaWeights(from: n, to: m) {
      for (i, w) in cells {
        index.append(i)
        weight.append(w)
      }
      start.append(index.count)
    }
  }

  /// `row[o * channels + k] += Σ weight × source[index * channels + k]`, in input order.
  func accumulate(_ source: UnsafeBufferPointer<UInt8>, channels: Int, into row: inout [Double]) {
    for o in 0..<(start.count - 1) {
      for j in start[o]..<start[o + 1] {
        let (x, wx) = (index[j] * channels, weight[j])
        for k in 0..<channels { row[o * channels + k] += wx * Double(source[x + k]) }
      }
    }
  }
}

/// For each of `m` output cells over `n` input cells, the input cells it covers and the
/// fraction of the output cell each one fills (summing to 1).
private func areaWeights(from n: Int, to m: Int) -> [[(Int, Double)]] {
  (0..<m).map { o in
    let (start, end) = (Double(o) * Double(n) / Double(m), Double(o + 1) * Double(n) / Double(m))
    var cells: [(Int, Double)] = []
    var i = Int(start)
    while i < n && Double(i) < end {
      let overlap = min(end, Double(i + 1)) - max(start, Double(i))
      if overlap > 0 { cells.append((i, overlap / (end - start))) }
      i += 1
    }
    return cells
  }
}
