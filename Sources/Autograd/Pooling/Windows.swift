import Tensors

// The windows every pooling slides: their geometry, the real cells of each, and when the
// SIMD paths' 2×2 tiles apply.

/// 2×2 windows with stride 2 and no padding over channels in multiples of 8: the windows
/// tile the input (but for an odd last row or column), and 8 channels fill a SIMD vector.
/// `same` padding of an odd size puts the last window half outside: that takes the reference.
package func isTiled2x2(_ g: WindowGeometry) -> Bool {
  g.windowH == 2 && g.windowW == 2 && g.strideH == 2 && g.strideW == 2 && g.padTop == 0 && g.padLeft == 0
    && 2 * g.outH <= g.height && 2 * g.outW <= g.width && g.channels % 8 == 0
}

/// Calls body(o, cells) for each window of image n: o is the output offset, and `cells` the
/// input offsets of the window's real (unpadded) cells, in row-major window order.
@inline(__always)
func forEachWindow(_ g: WindowGeometry, _ n: Int, _ body: (Int, WindowCells) -> Void) {
  for oy in 0..<g.outH {
    for ox in 0..<g.outW {
      let top = oy * g.strideH - g.padTop
      let left = ox * g.strideW - g.padLeft
      let cells = WindowCells(
        base: n * g.height * g.width * g.channels, rowStride: g.width * g.channels, channels: g.channels,
        rows: Swift.max(top, 0)..<Swift.min(top + g.windowH, g.height),
        columns: Swift.max(left, 0)..<Swift.min(left + g.windowW, g.width))
      body(((n * g.outH + oy) * g.outW + ox) * g.channels, cells)
    }
  }
}

/// The input offsets of a window's real cells: rows × columns of one image, row by row.
struct WindowCells: Sequence {
  let base: Int, rowStride: Int, channels: Int
  let rows: Range<Int>, columns: Range<Int>

  var count: Int { rows.count * columns.count }

  func makeIterator() -> Iterator {
    Iterator(cells: self, row: rows.lowerBound, column: columns.lowerBound)
  }

  struct Iterator: IteratorProtocol {
    let cells: WindowCells
    var row: Int, column: Int

    mutating func next() -> Int? {
      if column >= cells.columns.upperBound {
        row += 1
        column = cells.columns.lowerBound
      }
      guard row < cells.rows.upperBound, !cells.columns.isEmpty else { return nil }
      defer { column += 1 }
      return cells.base + row * cells.rowStride + column * cells.channels
    }
  }
}

func poolGeometry(
  _ x: Variable, _ pool: (Int, Int), _ strides: (Int, Int), _ padding: Padding
) throws -> WindowGeometry {
  guard x.shape.count == 4 else { throw TensorError("pooling expects an NHWC input, got shape \(x.shape)") }
  return try WindowGeometry(
    batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
    window: pool, strides: strides, padding: padding)
}
