import Tensors

// Max pooling over NHWC: the winner of each window is remembered for the backward pass.

/// Max pooling: window `pool`, strides, padding; padded cells never win. The seed model's
/// pools (2×2, stride 2, no padding, channels in multiples of 8) take a SIMD path; others the
/// reference loop. Either remembers each window's winner for the backward pass, and only when
/// a backward pass will run.
public func maxPool2d(
  _ x: Variable, pool: (Int, Int), strides: (Int, Int), padding: Padding
) throws -> Variable {
  let g = try poolGeometry(x, pool, strides, padding)
  let y = Tensor(uninitialized: [g.batch, g.outH, g.outW, g.channels])
  let inShape = x.shape
  if isTiled2x2(g) {
    let cells = willRecord([x]) ? TensorStorage(count: y.count, zeroed: false) : nil
    maxPool2x2Forward(x.value.data, g, y.data, cell: cells?.pointer)
    return makeOutput("max_pooling2d", y, inputs: [x]) { dy in
      let dx = Tensor(uninitialized: inShape)
      maxPool2x2Backward(cell: cells!.pointer, dy.data, g, dx.data)
      return [dx]
    }
  }
  let argmax = IndexBuffer(count: y.count)
  maxPoolForwardReference(x.value.data, g, y.data, argmax.pointer)
  return makeOutput("max_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: inShape)
    maxPoolBackwardReference(dy.data, argmax.pointer, g, dx.data)
    return [dx]
  }
}

/// Max pooling forward on the SIMD path (`isTiled2x2`): y gets each window's maximum, the
/// first cell in row-major order winning ties (and a NaN in it), as in the reference loop.
/// With `cell`, also records which cell won, for `maxPool2x2Backward`.
package func maxPool2x2Forward(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  cell: UnsafeMutablePointer<Float>? = nil
) {
  let (inSize, outSize) = (g.height * g.width * g.channels, g.outH * g.outW * g.channels)
  parallelFor(g.batch) { n in
    maxPool2x2ForwardImage(x + n * inSize, g, y + n * outSize, cell: cell.map { $0 + n * outSize })
  }
}

/// Max pooling backward on the SIMD path: each window's dy goes to the cell the forward pass
/// recorded as its winner, every other cell of dx is 0 (cells past the last window included).
package func maxPool2x2Backward(
  cell: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>
) {
  let (inSize, outSize) = (g.height * g.width * g.channels, g.outH * g.outW * g.channels)
  parallelFor(g.batch) { n in
    maxPool2x2BackwardImage(cell: cell + n * outSize, dy + n * outSize, g, dx + n * inSize, reluOutput: nil)
  }
}

/// `maxPool2x2Forward` of one image (x and y point at it), on the calling thread. The winning
/// cell of each window is recorded as 0 to 3 in row-major order, stored as floats so that the
/// SIMD code stays in float registers. With `bias` or `relu`, each cell of x is first taken
/// as `biasActivationRows` would leave it (x + bias, then max(·, 0)), so that a convolution
/// need not make that pass over all its rows first.
@inline(__always)
func maxPool2x2ForwardImage(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  cell: UnsafeMutablePointer<Float>?, bias: UnsafePointer<Float>? = nil, relu: Bool = false
) {
  typealias V = SIMD8<Float>
  let c = g.channels
  let xr = UnsafeRawPointer(x)
  for oy in 0..<g.outH {
    for ox in 0..<g.outW {
      let o = (oy * g.outW + ox) * c
      let i00 = (2 * oy * g.width + 2 * ox) * c
      let i10 = i00 + g.width * c
      var ch = 0
      while ch < c {
        var v00 = xr.loadUnaligned(fromByteOffset: (i00 + ch) * 4, as: V.self)
        var v01 = xr.loadUnaligned(fromByteOffset: (i00 + c + ch) * 4, as: V.self)
        var v10 = xr.loadUnaligned(fromByteOffset: (i10 + ch) * 4, as: V.self)
        var v11 = xr.loadUnaligned(fromByteOffset: (i10 + c + ch) * 4, as: V.self)
        if let bias {
          let b = UnsafeRawPointer(bias + ch).loadUnaligned(as: V.self)
          v00 += b
          v01 += b
          v10 += b
          v11 += b
        }
        if relu {
          // Swift.max(v, 0): 0 where 0 >= v, else v (NaN stays NaN).
          let zero = V(repeating: 0)
          v00.replace(with: zero, where: v00 .<= zero)
          v01.replace(with: zero, where: v01 .<= zero)
          v10.replace(with: zero, where: v10 .<= zero)
          v11.replace(with: zero, where: v11 .<= zero)
        }
        var best = v00
        var won = V(repeating: 0)
        @inline(__always) func consider(_ v: V, _ index: Float) {
          let better = v .> best
          best.replace(with: v, where: better)
          won.replace(with: index, where: better)
        }
        consider(v01, 1)
        consider(v10, 2)
        consider(v11, 3)
        UnsafeMutableRawPointer(y + o + ch).storeBytes(of: best, as: V.self)
        if let cell { UnsafeMutableRawPointer(cell + o + ch).storeBytes(of: won, as: V.self) }
        ch += 8
      }
    }
  }
}

/// `maxPool2x2Backward` of one image, on the calling thread. With `reluOutput` (the pooled y
/// of a ReLU'd input), a window whose maximum is not above 0 passes nothing, as the ReLU
/// before the pooling would.
@inline(__always)
func maxPool2x2BackwardImage(
  cell: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>,
  reluOutput y: UnsafePointer<Float>?
) {
  typealias V = SIMD8<Float>
  let c = g.channels
  for row in (2 * g.outH)..<g.height { (dx + row * g.width * c).update(repeating: 0, count: g.width * c) }
  if g.width > 2 * g.outW {
    for row in 0..<(2 * g.outH) {
      (dx + (row * g.width + 2 * g.outW) * c).update(repeating: 0, count: (g.width - 2 * g.outW) * c)
    }
  }
  let dxr = UnsafeMutableRawPointer(dx)
  for oy in 0..<g.outH {
    for ox in 0..<g.outW {
      let o = (oy * g.outW + ox) * c
      let i00 = (2 * oy * g.width + 2 * ox) * c
      let i10 = i00 + g.width * c
      var ch = 0
      while ch < c {
        var d = UnsafeRawPointer(dy + o + ch).loadUnaligned(as: V.self)
        if let y { d.replace(with: 0, where: UnsafeRawPointer(y + o + ch).loadUnaligned(as: V.self) .<= 0) }
        let won = UnsafeRawPointer(cell + o + ch).loadUnaligned(as: V.self)
        @inline(__always) func put(_ off: Int, _ index: Float) {
          dxr.storeBytes(
            of: V(repeating: 0).replacing(with: d, where: won .== V(repeating: index)), toByteOffset: (off + ch) * 4,
            as: V.self)
        }
        put(i00, 0)
        put(i00 + c, 1)
        put(i10, 2)
        put(i10 + c, 3)
        ch += 8
      }
    }
  }
}

/// The plain reference loop for any window, stride and padding.
package func maxPoolForwardReference(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutablePointer<Float>,
  _ argmax: UnsafeMutablePointer<Int32>
) {
  let c = g.channels
  let outputs = g.batch * g.outH * g.outW * c
  y.update(repeating: -Float.infinity, count: outputs)
  argmax.update(repeating: -1, count: outputs)
  for n in 0..<g.batch {
    forEachWindow(g, n) { o, cells in
      for i in cells {
        for ch in 0..<c where x[i + ch] > y[o + ch] || argmax[o + ch] < 0 {
          y[o + ch] = x[i + ch]
          argmax[o + ch] = Int32(i + ch)
        }
      }
    }
  }
}

/// Max pooling backward, the plain reference: clear dx, then add each output's gradient at
/// its argmax. Each image's indices stay inside that image, so images are done in parallel.
package func maxPoolBackwardReference(
  _ dy: UnsafePointer<Float>, _ argmax: UnsafePointer<Int32>, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>
) {
  let perOut = g.outH * g.outW * g.channels
  let perIn = g.height * g.width * g.channels
  parallelFor(g.batch) { n in
    (dx + n * perIn).update(repeating: 0, count: perIn)
    for i in (n * perOut)..<((n + 1) * perOut) { dx[Int(argmax[i])] += dy[i] }
  }
}

/// Owns the argmax indices a max-pooling backward needs.
final class IndexBuffer {
  let pointer: UnsafeMutablePointer<Int32>
  init(count: Int) { pointer = .allocate(capacity: Swift.max(count, 1)) }
  deinit { pointer.deallocate() }
}
