import Tensors

// Poolings whose output depends on which values a window holds, not only on their sum or
// maximum: min, mixed max-average, Lp and average of the top k. Each forward pass records the
// window's local derivatives ∂y/∂cell ("weights"): 1 on the smallest cell for min, 1/k on each
// of the k largest for avg-top-k, λ on the largest plus (1 − λ)/count on every cell for mixed,
// x^(p−1)·S^(1/p−1) for Lp. The backward pass is then the same for all: dx[cell] += dy · weight.
//
// Each pooling has a plain reference (any window, stride and padding, one channel at a time
// through a `WindowRule`) and a SIMD path for 2×2 windows with stride 2, no padding and
// channels in multiples of 8 (`isTiled2x2`), which gives the same results bit for bit.

/// One window of one channel: the values of its real cells in row-major order in, the output
/// returned and ∂y/∂cell written to `weights` (same length). `window` numbers the window in
/// the batch (image-major, then row, then column), for rules that draw per window.
typealias WindowRule = (
  _ values: UnsafeMutableBufferPointer<Float>, _ weights: UnsafeMutableBufferPointer<Float>, _ window: Int,
  _ channel: Int
) -> Float

/// ∂y/∂x of every window: window w, cell k (row-major over the window's real cells), channel
/// ch at ((w · K) + k) · C + ch, with K = windowH · windowW.
final class WindowWeights {
  let pointer: UnsafeMutablePointer<Float>
  let cellsPerWindow: Int

  init(_ g: WindowGeometry) {
    cellsPerWindow = g.windowH * g.windowW
    let count = g.batch * g.outH * g.outW * cellsPerWindow * g.channels
    pointer = .allocate(capacity: Swift.max(count, 1))
    pointer.initialize(repeating: 0, count: Swift.max(count, 1))
  }
  deinit { pointer.deallocate() }
}

/// The reference forward: y and (when given) the weights of every window, one channel at a
/// time through `rule`.
func weightedPoolReference(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>, _ weights: WindowWeights?,
  rule: WindowRule
) {
  let (c, k) = (g.channels, g.windowH * g.windowW)
  parallelFor(g.batch) { n in
    let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: k)
    let local = UnsafeMutableBufferPointer<Float>.allocate(capacity: k)
    defer {
      values.deallocate()
      local.deallocate()
    }
    forEachWindow(g, n) { o, cells in
      let window = o / c
      let count = cells.count
      for ch in 0..<c {
        var i = 0
        for cell in cells {
          values[i] = x[cell + ch]
          i += 1
        }
        y[o + ch] = rule(
          UnsafeMutableBufferPointer(rebasing: values[0..<count]),
          UnsafeMutableBufferPointer(rebasing: local[0..<count]),
          window, ch)
        if let w = weights?.pointer {
          for j in 0..<count { w[(window * k + j) * c + ch] = local[j] }
        }
      }
    }
  }
}

/// The backward pass of every weighted pooling: dx = Σ over windows of dy · weight, per cell.
func weightedPoolBackward(
  _ dy: UnsafePointer<Float>, _ weights: WindowWeights, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>
) {
  if isTiled2x2(g) {
    weightedPool2x2Backward(dy, weights.pointer, g, dx)
    return
  }
  let (c, k) = (g.channels, weights.cellsPerWindow)
  let perIn = g.height * g.width * c
  parallelFor(g.batch) { n in
    (dx + n * perIn).update(repeating: 0, count: perIn)
    forEachWindow(g, n) { o, cells in
      let window = o / c
      var j = 0
      for cell in cells {
        let w = weights.pointer + (window * k + j) * c
        for ch in 0..<c { dx[cell + ch] += dy[o + ch] * w[ch] }
        j += 1
      }
    }
  }
}

/// The backward pass on the SIMD path: windows tile the input, so each cell of dx is dy times
/// its weight (0 past the last window).
func weightedPool2x2Backward(
  _ dy: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>
) {
  typealias V = SIMD8<Float>
  let c = g.channels
  let (perIn, perOut) = (g.height * g.width * c, g.outH * g.outW * c)
  parallelFor(g.batch) { n in
    let dxn = dx + n * perIn
    dxn.update(repeating: 0, count: perIn)
    for oy in 0..<g.outH {
      for ox in 0..<g.outW {
        let window = (n * g.outH + oy) * g.outW + ox
        let o = n * perOut + (oy * g.outW + ox) * c
        let first = (2 * oy * g.width + 2 * ox) * c
        var ch = 0
        while ch < c {
          let d = UnsafeRawPointer(dy + o + ch).loadUnaligned(as: V.self)
          for j in 0..<4 {
            let w = UnsafeRawPointer(weights + (window * 4 + j) * c + ch).loadUnaligned(as: V.self)
            let cell = first + (j >> 1) * g.width * c + (j & 1) * c
            UnsafeMutableRawPointer(dxn + cell + ch).storeBytes(of: d * w, as: V.self)
          }
          ch += 8
        }
      }
    }
  }
}

/// Runs `body(window, o, v)` over every 2×2 window of the SIMD path, 8 channels at a time:
/// `o` is the offset of the 8 outputs, `v` the four cells in row-major order.
@inline(__always)
func forEachTile(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry,
  _ body: (_ window: Int, _ o: Int, _ channel: Int, _ v: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) ->
    Void
) {
  let c = g.channels
  let (perIn, perOut) = (g.height * g.width * c, g.outH * g.outW * c)
  let xr = UnsafeRawPointer(x)
  parallelFor(g.batch) { n in
    for oy in 0..<g.outH {
      for ox in 0..<g.outW {
        let window = (n * g.outH + oy) * g.outW + ox
        let o = n * perOut + (oy * g.outW + ox) * c
        let i00 = n * perIn + (2 * oy * g.width + 2 * ox) * c
        let i10 = i00 + g.width * c
        var ch = 0
        while ch < c {
          let v = (
            xr.loadUnaligned(fromByteOffset: (i00 + ch) * 4, as: SIMD8<Float>.self),
            xr.loadUnaligned(fromByteOffset: (i00 + c + ch) * 4, as: SIMD8<Float>.self),
            xr.loadUnaligned(fromByteOffset: (i10 + ch) * 4, as: SIMD8<Float>.self),
            xr.loadUnaligned(fromByteOffset: (i10 + c + ch) * 4, as: SIMD8<Float>.self)
          )
          body(window, o, ch, v)
          ch += 8
        }
      }
    }
  }
}

/// Stores the four weight vectors of a tile at window `window`, channels ch..<ch+8.
@inline(__always)
func storeTileWeights(
  _ weights: UnsafeMutablePointer<Float>?, _ window: Int, _ ch: Int, _ c: Int,
  _ w: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
) {
  guard let weights else { return }
  let base = UnsafeMutableRawPointer(weights + window * 4 * c + ch)
  base.storeBytes(of: w.0, as: SIMD8<Float>.self)
  base.storeBytes(of: w.1, toByteOffset: c * 4, as: SIMD8<Float>.self)
  base.storeBytes(of: w.2, toByteOffset: 2 * c * 4, as: SIMD8<Float>.self)
  base.storeBytes(of: w.3, toByteOffset: 3 * c * 4, as: SIMD8<Float>.self)
}

/// The op of a weighted pooling: y from the SIMD path or the reference, the weights kept
/// only when a backward pass will run, and the shared backward.
func weightedPoolOp(
  _ name: String, _ x: Variable, _ g: WindowGeometry, extraInputs: [Variable] = [],
  forward: (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ weights: WindowWeights?) -> Void,
  extraBackward: ((_ dy: Tensor) -> [Tensor?])? = nil
) -> Variable {
  let y = Tensor(uninitialized: [g.batch, g.outH, g.outW, g.channels])
  let weights = willRecord([x] + extraInputs) ? WindowWeights(g) : nil
  forward(x.value.data, y.data, weights)
  let inShape = x.shape
  return makeOutput(name, y, inputs: [x] + extraInputs) { dy in
    let dx = Tensor(uninitialized: inShape)
    weightedPoolBackward(dy.data, weights!, g, dx.data)
    return [dx] + (extraBackward?(dy) ?? [])
  }
}

typealias V8 = SIMD8<Float>

/// 1 where `mask` holds, else 0.
@inline(__always)
func ones(_ mask: SIMDMask<SIMD8<Int32>>) -> V8 { V8(repeating: 0).replacing(with: 1, where: mask) }
