import Foundation
import Tensors

// Min pooling: a rule for one window (the reference) and a SIMD kernel for 2×2 tiles, both
// recording the local derivatives the shared backward turns into dx (WeightedPooling.swift).

/// Min pooling: the smallest real cell of each window, the first in row-major order on ties;
/// its gradient goes to that cell.
public func minPool2d(_ x: Variable, pool: (Int, Int), strides: (Int, Int), padding: Padding) throws -> Variable {
  let g = try poolGeometry(x, pool, strides, padding)
  return weightedPoolOp("min_pooling2d", x, g) { x, y, weights in
    if isTiled2x2(g) {
      minPool2x2(x, g, y, weights?.pointer)
    } else {
      weightedPoolReference(x, g, y, weights) { values, w, _, _ in
        var best = 0
        for i in 1..<values.count where values[i] < values[best] { best = i }
        for i in w.indices { w[i] = i == best ? 1 : 0 }
        return values[best]
      }
    }
  }
}

func minPool2x2(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  _ weights: UnsafeMutablePointer<Float>?
) {
  forEachTile(x, g) { window, o, ch, v in
    var best = v.0
    var won = V8(repeating: 0)
    @inline(__always) func consider(_ cell: V8, _ index: Float) {
      let better = cell .< best
      best.replace(with: cell, where: better)
      won.replace(with: index, where: better)
    }
    consider(v.1, 1)
    consider(v.2, 2)
    consider(v.3, 3)
    UnsafeMutableRawPointer(y + o + ch).storeBytes(of: best, as: V8.self)
    storeTileWeights(
      weights, window, ch, g.channels, (ones(won .== 0), ones(won .== 1), ones(won .== 2), ones(won .== 3)))
  }
}
