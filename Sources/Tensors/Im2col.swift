// Convolution as matrix multiply over NHWC: each output pixel's receptive field becomes one
// row of a [batch*outH*outW, kh*kw*c] matrix (channels contiguous), which multiplies the
// kernel [kh*kw*c, filters]. `col2im` is its adjoint (scatter-add), used for the input
// gradient. `convolutionReference` is the plain direct loop they are tested against.

/// Unfolds x [N, H, W, C] into col [N*outH*outW, kh*kw*C]; padded cells become 0. Images are
/// spread over the threads.
package func im2col(_ x: UnsafePointer<Float>, _ g: WindowGeometry, _ col: UnsafeMutablePointer<Float>) {
  let rowsPerImage = g.outH * g.outW * g.windowH * g.windowW * g.channels
  parallelFor(g.batch) { n in im2col(x, g, col + n * rowsPerImage, images: n..<(n + 1)) }
}

/// Floats per row of col that `im2col(_:_:_:images:padded:)` writes when padded: kh*kw*C,
/// except for a 3×3 window over 3 channels (a first layer over RGB) with unit strides and no
/// padding, whose 27 floats are padded with zeros to 32. Those rows are written as four
/// aligned vectors, twice as fast as rows of 27; a GEMM reads them with lda 32.
package func im2colRowLength(_ g: WindowGeometry) -> Int {
  isRGB3x3(g) ? 32 : g.windowH * g.windowW * g.channels
}

private func isRGB3x3(_ g: WindowGeometry) -> Bool {
  g.channels == 3 && g.windowH == 3 && g.windowW == 3 && g.strideH == 1 && g.strideW == 1 && g.padTop == 0
    && g.padLeft == 0 && g.outH + 2 <= g.height && g.outW + 2 <= g.width
}

/// im2col of `images` only, on the calling thread: col points at the first of their rows.
/// With `padded`, rows are `im2colRowLength(g)` floats long.
package func im2col(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ col: UnsafeMutablePointer<Float>, images: Range<Int>,
  padded: Bool = false
) {
  if padded && isRGB3x3(g) {
    im2colRGB3x3(x, g, col, images: images)
    return
  }
  let c = g.channels
  // No padding on any side (`same` can pad only after) and unit column stride: the fast path.
  if g.padTop == 0 && g.padLeft == 0 && g.strideW == 1 && (g.outH - 1) * g.strideH + g.windowH <= g.height
    && g.outW - 1 + g.windowW <= g.width
  {
    im2colValidRows(x, g, col, images: images)
    return
  }
  var dst = col
  for n in images {
    let img = x + n * g.height * g.width * c
    for oy in 0..<g.outH {
      for ox in 0..<g.outW {
        let y0 = oy * g.strideH - g.padTop
        let x0 = ox * g.strideW - g.padLeft
        for ky in 0..<g.windowH {
          let y = y0 + ky
          if y < 0 || y >= g.height {
            dst.update(repeating: 0, count: g.windowW * c)
            dst += g.windowW * c
            continue
          }
          let rowBase = img + y * g.width * c
          if x0 >= 0 && x0 + g.windowW <= g.width {
            copyFloats(dst, rowBase + x0 * c, g.windowW * c)
            dst += g.windowW * c
          } else {
            for kx in 0..<g.windowW {
              let xx = x0 + kx
              if xx < 0 || xx >= g.width {
                dst.update(repeating: 0, count: c)
              } else {
                copyFloats(dst, rowBase + xx * c, c)
              }
              dst += c
            }
          }
        }
      }
    }
  }
}

/// im2col without padding and with unit column stride (the seed model's convolutions): every
/// window lies inside the image, so each row of col is `windowH` runs of `windowW*C` floats.
/// Runs of 8 to 16 floats are copied as two overlapping vectors, except 9 (3x3 over RGB).
private func im2colValidRows(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ col: UnsafeMutablePointer<Float>, images: Range<Int>
) {
  typealias V = SIMD8<Float>
  let c = g.channels
  let run = g.windowW * c
  let rowLen = g.windowH * run
  let short = run >= 8 && run <= 16
  let lineStride = g.width * c
  for n in images {
    let img = x + n * g.height * lineStride
    var dst = col + (n - images.lowerBound) * g.outH * g.outW * rowLen
    for oy in 0..<g.outH {
      for ky in 0..<g.windowH {
        let line = UnsafeRawPointer(img + (oy * g.strideH + ky) * lineStride)
        var d = UnsafeMutableRawPointer(dst + ky * run)
        if run == 9 {
          // 3x3 over RGB: one vector and one float, rather than two overlapping vectors (half
          // of which would cross a cache line at this 108-byte row pitch).
          for ox in 0..<g.outW {
            let s = line + ox * c * 4
            d.storeBytes(of: s.loadUnaligned(as: V.self), as: V.self)
            d.storeBytes(of: s.load(fromByteOffset: 32, as: Float.self), toByteOffset: 32, as: Float.self)
            d += rowLen * 4
          }
        } else if short {
          let tail = (run - 8) * 4
          for ox in 0..<g.outW {
            let s = line + ox * c * 4
            d.storeBytes(of: s.loadUnaligned(as: V.self), as: V.self)
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: tail, as: V.self), toByteOffset: tail, as: V.self)
            d += rowLen * 4
          }
        } else {
          for ox in 0..<g.outW {
            copyFloats(
              d.assumingMemoryBound(to: Float.self), (line + ox * c * 4).assumingMemoryBound(to: Float.self), run)
            d += rowLen * 4
          }
        }
      }
      dst += g.outW * rowLen
    }
  }
}

/// im2col for `isRGB3x3`, rows of 32: the three runs of 9 floats, then 5 zeros, built in four
/// vectors. Each vector after the first is loaded from its image line starting a float or two
/// early (the end of the line above, inside the image) and gets the previous run's last floats
/// put in its first lanes.
private func im2colRGB3x3(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, _ col: UnsafeMutablePointer<Float>, images: Range<Int>
) {
  typealias V = SIMD8<Float>
  let lineBytes = g.width * 3 * 4
  var d = UnsafeMutableRawPointer(col)
  for n in images {
    let img = UnsafeRawPointer(x + n * g.height * g.width * 3)
    for oy in 0..<g.outH {
      let l0 = img + oy * lineBytes
      let l1 = l0 + lineBytes
      let l2 = l1 + lineBytes
      for ox in 0..<g.outW {
        let o = ox * 12
        let v0 = l0.loadUnaligned(fromByteOffset: o, as: V.self)
        var v1 = l1.loadUnaligned(fromByteOffset: o - 4, as: V.self)
        v1[0] = l0.load(fromByteOffset: o + 32, as: Float.self)
        var v2 = l2.loadUnaligned(fromByteOffset: o - 8, as: V.self)
        v2[0] = l1.load(fromByteOffset: o + 28, as: Float.self)
        v2[1] = l1.load(fromByteOffset: o + 32, as: Float.self)
        var v3 = V()
        v3[0] = l2.load(fromByteOffset: o + 24, as: Float.self)
        v3[1] = l2.load(fromByteOffset: o + 28, as: Float.self)
        v3[2] = l2.load(fromByteOffset: o + 32, as: Float.self)
        d.storeBytes(of: v0, as: V.self)
        d.storeBytes(of: v1, toByteOffset: 32, as: V.self)
        d.storeBytes(of: v2, toByteOffset: 64, as: V.self)
        d.storeBytes(of: v3, toByteOffset: 96, as: V.self)
        d += 128
      }
    }
  }
}

/// Adds col [N*outH*outW, kh*kw*C] back into dx [N, H, W, C] (dx is not cleared first).
/// Images are spread over the threads.
package func col2im(_ col: UnsafePointer<Float>, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>) {
  let rowsPerImage = g.outH * g.outW * g.windowH * g.windowW * g.channels
  parallelFor(g.batch) { n in col2im(col + n * rowsPerImage, g, dx, images: n..<(n + 1)) }
}

/// col2im of `images` only, on the calling thread: col points at the first of their rows.
package func col2im(
  _ col: UnsafePointer<Float>, _ g: WindowGeometry, _ dx: UnsafeMutablePointer<Float>, images: Range<Int>
) {
  let c = g.channels
  var src = col
  for n in images {
    let img = dx + n * g.height * g.width * c
    for oy in 0..<g.outH {
      for ox in 0..<g.outW {
        let y0 = oy * g.strideH - g.padTop
        let x0 = ox * g.strideW - g.padLeft
        for ky in 0..<g.windowH {
          let y = y0 + ky
          for kx in 0..<g.windowW {
            let xx = x0 + kx
            if y >= 0 && y < g.height && xx >= 0 && xx < g.width {
              addInPlace(img + (y * g.width + xx) * c, src, c)
            }
            src += c
          }
        }
      }
    }
  }
}

/// The plain direct convolution: out[n, oy, ox, f] = bias[f] + sum x * kernel[ky, kx, ci, f].
package func convolutionReference(
  _ x: UnsafePointer<Float>, _ g: WindowGeometry, kernel: UnsafePointer<Float>, filters: Int,
  bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>
) {
  for n in 0..<g.batch {
    for oy in 0..<g.outH {
      for ox in 0..<g.outW {
        for f in 0..<filters {
          var s: Float = bias?[f] ?? 0
          for ky in 0..<g.windowH {
            for kx in 0..<g.windowW {
              let y = oy * g.strideH - g.padTop + ky
              let xx = ox * g.strideW - g.padLeft + kx
              if y < 0 || y >= g.height || xx < 0 || xx >= g.width { continue }
              for ci in 0..<g.channels {
                s +=
                  x[((n * g.height + y) * g.width + xx) * g.channels + ci]
                  * kernel[((ky * g.windowW + kx) * g.channels + ci) * filters + f]
              }
            }
          }
          out[((n * g.outH + oy) * g.outW + ox) * filters + f] = s
        }
      }
    }
  }
}
