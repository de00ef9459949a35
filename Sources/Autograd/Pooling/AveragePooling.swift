import Tensors

// Average pooling over NHWC: the mean of a window's real (unpadded) cells, as TensorFlow
// and Keras do with `same` padding.

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
    forEachWindow(g, n) { o, cells in
      for i in cells { addInPlace(yp + o, xp + i, c) }
      let w = 1 / Float(cells.count)
      for ch in 0..<c { yp[o + ch] *= w }
    }
  }
  let inShape = x.shape
  return makeOutput("average_pooling2d", y, inputs: [x]) { dy in
    let dx = Tensor(zeros: inShape)
    let dxp = dx.data
    let dyp = dy.data
    parallelFor(g.batch) { n in
      forEachWindow(g, n) { o, cells in
        let w = 1 / Float(cells.count)
        for i in cells {
          for ch in 0..<c { dxp[i + ch] += dyp[o + ch] * w }
        }
      }
    }
    return [dx]
  }
}
