import Tensors

// Pooling over NHWC, each a single op with its backward beside it. Max pooling remembers
// the input index of each window's maximum; average pooling divides by the number of real
// (unpadded) cells in the window, as TensorFlow/Keras do with `same` padding.

/// Max pooling: window `pool`, strides, padding; padded cells never win.
public func maxPool2d(
  _ x: Variable, pool: (Int, Int), strides: (Int, Int), padding: Padding
) throws -> Variable {
  let g = try poolGeometry(x, pool, strides, padding)
  let c = g.channels
  let y = Tensor(uninitialized: [g.batch, g.outH, g.outW, c])
  let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(y.count, 1))
  let xp = x.value.data
  let yp = y.data
  parallelFor(g.batch) { n in
    for oy in 0..<g.outH {
      for ox in 0..<g.outW {
        let o = ((n * g.outH + oy) * g.outW + ox) * c
        for ch in 0..<c {
          yp[o + ch] = -Float.infinity
          argmax[o + ch] = -1
        }
        for ky in 0..<g.windowH {
          let iy = oy * g.strideH - g.padTop + ky
          if iy < 0 || iy >= g.height { continue }
          for kx in 0..<g.windowW {
            let ix = ox * g.strideW - g.padLeft + kx
            if ix < 0 || ix >= g.width { continue }
            let i = ((n * g.height + iy) * g.width + ix) * c
            for ch in 0..<c where xp[i + ch] > yp[o + ch] || argmax[o + ch] < 0 {
              yp[o + ch] = xp[i + ch]
              argmax[o + ch] = Int32(i + ch)
            }
          }
        }
      }
    }
  }
  let holder = IndexBuffer(argmax)
  let inShape = x.shape
  return makeOutput("max_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(zeros: inShape)
    let a = holder.pointer
    for i in 0..<dy.count { dx.data[Int(a[i])] += dy.data[i] }
    return [dx]
  }
}

/// Average pooling: the mean of each window's real cells.
public func avgPool2d(
  _ x: Variable, pool: (Int, Int), strides: (Int, Int), padding: Padding
) throws -> Variable {
  let g = try poolGeometry(x, pool, strides, padding)
  let c = g.channels
  let y = Tensor(zeros: [g.batch, g.outH, g.outW, c])
  let xp = x.value.data
  let yp = y.data
  parallelFor(g.batch) { n in
    forEachWindow(g, n) { o, i, count in
      if i >= 0 { addInPlace(yp + o, xp + i, c) } else { scale(yp + o, c, 1 / Float(count)) }
    }
  }
  let inShape = x.shape
  return makeOutput("average_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(zeros: inShape)
    let dxp = dx.data
    let dyp = dy.data
    parallelFor(g.batch) { n in
      // Collect each window's cells, then spread dy / count over them.
      var cells: [Int] = []
      forEachWindow(g, n) { o, i, count in
        if i >= 0 {
          cells.append(i)
        } else {
          let w = 1 / Float(count)
          for cell in cells {
            for ch in 0..<c { dxp[cell + ch] += dyp[o + ch] * w }
          }
          cells.removeAll(keepingCapacity: true)
        }
      }
    }
    return [dx]
  }
}

/// Calls body(o, i, 0) for every real input cell i of each window of image n (o is the
/// output offset), then body(o, -1, count) once the window is done.
@inline(__always)
private func forEachWindow(_ g: WindowGeometry, _ n: Int, _ body: (Int, Int, Int) -> Void) {
  let c = g.channels
  for oy in 0..<g.outH {
    for ox in 0..<g.outW {
      let o = ((n * g.outH + oy) * g.outW + ox) * c
      var count = 0
      for ky in 0..<g.windowH {
        let iy = oy * g.strideH - g.padTop + ky
        if iy < 0 || iy >= g.height { continue }
        for kx in 0..<g.windowW {
          let ix = ox * g.strideW - g.padLeft + kx
          if ix < 0 || ix >= g.width { continue }
          body(o, ((n * g.height + iy) * g.width + ix) * c, 0)
          count += 1
        }
      }
      body(o, -1, count)
    }
  }
}

@inline(__always)
private func scale(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float) {
  for i in 0..<n { p[i] *= s }
}

private func poolGeometry(
  _ x: Variable, _ pool: (Int, Int), _ strides: (Int, Int), _ padding: Padding
) throws -> WindowGeometry {
  guard x.shape.count == 4 else { throw ShapeError("pooling expects an NHWC input, got shape \(x.shape)") }
  return try WindowGeometry(
    batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
    window: pool, strides: strides, padding: padding)
}

/// Global max pooling: [N, H, W, C] -> [N, C].
public func globalMaxPool2d(_ x: Variable) throws -> Variable {
  guard x.shape.count == 4 else { throw ShapeError("global pooling expects an NHWC input, got shape \(x.shape)") }
  let (n, hw, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
  let y = Tensor(shape: [n, c], repeating: -Float.infinity)
  let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(n * c, 1))
  let xp = x.value.data
  for b in 0..<n {
    for ch in 0..<c { argmax[b * c + ch] = Int32((b * hw) * c + ch) }
    for p in 0..<hw {
      let i = (b * hw + p) * c
      for ch in 0..<c where xp[i + ch] > y.data[b * c + ch] {
        y.data[b * c + ch] = xp[i + ch]
        argmax[b * c + ch] = Int32(i + ch)
      }
    }
  }
  let holder = IndexBuffer(argmax)
  let inShape = x.shape
  return makeOutput("global_max_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(zeros: inShape)
    for i in 0..<dy.count { dx.data[Int(holder.pointer[i])] += dy.data[i] }
    return [dx]
  }
}

/// Global average pooling: [N, H, W, C] -> [N, C].
public func globalAvgPool2d(_ x: Variable) throws -> Variable {
  guard x.shape.count == 4 else { throw ShapeError("global pooling expects an NHWC input, got shape \(x.shape)") }
  let (n, hw, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
  let y = Tensor(zeros: [n, c])
  for b in 0..<n {
    sumRows(x.value.data + b * hw * c, rows: hw, n: c, into: y.data + b * c)
    for ch in 0..<c { y.data[b * c + ch] /= Float(hw) }
  }
  let inShape = x.shape
  return makeOutput("global_average_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(uninitialized: inShape)
    let w = 1 / Float(hw)
    for b in 0..<n {
      for p in 0..<hw {
        for ch in 0..<c { dx.data[(b * hw + p) * c + ch] = dy.data[b * c + ch] * w }
      }
    }
    return [dx]
  }
}

/// Owns the argmax indices a max-pooling backward needs.
final class IndexBuffer {
  let pointer: UnsafeMutablePointer<Int32>
  init(_ p: UnsafeMutablePointer<Int32>) { pointer = p }
  deinit { pointer.deallocate() }
}
