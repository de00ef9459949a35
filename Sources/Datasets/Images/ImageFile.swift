import Foundation
import Tensors

extension PixelImage {
  /// Reads a PNG, PGM or PPM file, told apart by its first bytes. Errors name the file.
  public init(contentsOf path: String) throws {
    let bytes: [UInt8]
    do {
      bytes = try readFile(path, what: "image file", limit: 256 << 20)
    } catch let e as FileError {
      throw ImageFileError(e.message)
    }
    do {
      if bytes.starts(with: [137, 80, 78, 71]) {
        self = try decodePNG(bytes)
      } else if bytes.starts(with: [80]) {
        self = try decodePNM(bytes)
      } else {
        throw ImageFileError("not a PNG, PGM or PPM file")
      }
    } catch let error as ImageFileError {
      throw ImageFileError("'\(path)': \(error)")
    }
  }

  /// The image at `height` × `width`, each new pixel the mean of the area of the old image it
  /// covers (partly covered pixels weighted by the part), with 1 or 3 channels (gray becomes
  /// RGB by repetition, RGB becomes gray by the ITU-R BT.601 luma weights).
  public func resized(height h: Int, width w: Int, channels c: Int) throws -> PixelImage {
    guard h > 0, w > 0, c == 1 || c == 3 else { throw ImageFileError("cannot resize to \(h)x\(w)x\(c)") }
    let horizontal = areaWeights(from: width, to: w)
    let vertical = areaWeights(from: height, to: h)
    var out = [UInt8](repeating: 0, count: h * w * c)
    var row = [Double](repeating: 0, count: w * channels)
    var sums = [Double](repeating: 0, count: w * channels)
    for (oy, rows) in vertical.enumerated() {
      for i in sums.indices { sums[i] = 0 }
      for (y, wy) in rows {
        for i in row.indices { row[i] = 0 }
        for (ox, cols) in horizontal.enumerated() {
          for (x, wx) in cols {
            for k in 0..<channels { row[ox * channels + k] += wx * Double(pixels[(y * width + x) * channels + k]) }
          }
        }
        for i in sums.indices { sums[i] += wy * row[i] }
      }
      for ox in 0..<w {
        let v = (0..<channels).map { sums[ox * channels + $0] }
        let values = c == channels ? v : c == 3 ? [v[0], v[0], v[0]] : [0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]]
        for k in 0..<c { out[(oy * w + ox) * c + k] = UInt8(min(255, max(0, values[k].rounded()))) }
      }
    }
    return try PixelImage(width: w, height: h, channels: c, pixels: out)
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
