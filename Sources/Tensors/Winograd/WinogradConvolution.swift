// A 3×3, stride-1 convolution over NHWC by Winograd's F(m×m, 3×3) (see Transforms.swift),
// worked on chunks of images like the direct path. Layouts, for a chunk of T tiles (tiles in
// image, tile-row, tile-column order) and ξ the α² points of a transformed tile:
//   V  [T, α², in]   the input tiles, Bᵀ d B
//   U  [α², in, out] the kernel, G g Gᵀ
//   M  [T, α², out]  the products V[:, ξ, :] · U[ξ], one GEMM per ξ
//   Y  = Aᵀ M A, written into the chunk's convolution rows.
// Backward, from the convolution's row gradient dZ: dM = A dZ Aᵀ (the output transform's
// adjoint), the kernel gradient dU[ξ] += V[:, ξ, :]ᵀ · dM[:, ξ, :] (turned into a 3×3 kernel
// gradient at the end by Gᵀ dU G), and the input gradient dV[:, ξ, :] = dM[:, ξ, :] · U[ξ]ᵀ,
// added back into dx tile by tile as B dV Bᵀ.

/// The plan of a Winograd convolution for one input shape.
package struct WinogradConvolution: Sendable {
  package let tile: WinogradTile
  package let geometry: WindowGeometry
  package let filters: Int
  package let tilesY: Int, tilesX: Int
  let inputMatrix: SmallMatrix, inputAdjoint: SmallMatrix
  let outputMatrix: SmallMatrix, outputAdjoint: SmallMatrix
  let filterMatrix: SmallMatrix, filterAdjoint: SmallMatrix

  /// Nil unless the window is 3×3 with strides 1 (any padding).
  package init?(_ geometry: WindowGeometry, filters: Int, tile: WinogradTile) {
    let g = geometry
    guard g.windowH == 3, g.windowW == 3, g.strideH == 1, g.strideW == 1, g.outH > 0, g.outW > 0 else { return nil }
    self.tile = tile
    self.geometry = g
    self.filters = filters
    tilesY = (g.outH + tile.m - 1) / tile.m
    tilesX = (g.outW + tile.m - 1) / tile.m
    inputMatrix = tile.inputMatrix
    inputAdjoint = inputMatrix.transposed
    outputMatrix = tile.outputMatrix
    outputAdjoint = outputMatrix.transposed
    filterMatrix = tile.filterMatrix
    filterAdjoint = filterMatrix.transposed
  }

  package var tilesPerImage: Int { tilesY * tilesX }
  /// α², the products per tile.
  package var points: Int { tile.alpha * tile.alpha }

  /// U [α², in, out] from the kernel [3, 3, in, out].
  package func transformedKernel(_ kernel: UnsafePointer<Float>) -> TensorStorage {
    let n = geometry.channels * filters
    let u = TensorStorage(count: points * n, zeroed: false)
    sandwich(
      filterMatrix, kernel, inRow: 3 * n, inColumn: n, u.pointer, outRow: tile.alpha * n, outColumn: n, length: n)
    return u
  }

  /// The kernel gradient [3, 3, in, out] from the transformed one [α², in, out]: Gᵀ dU G.
  package func kernelGradient(_ du: UnsafePointer<Float>, into dk: UnsafeMutablePointer<Float>) {
    let n = geometry.channels * filters
    sandwich(filterAdjoint, du, inRow: tile.alpha * n, inColumn: n, dk, outRow: 3 * n, outColumn: n, length: n)
  }

  /// The convolution rows [images, outH, outW, out] of `images`, written at `out`, from the
  /// batch's input `x` and the transformed kernel `u`.
  package func forward(
    _ x: UnsafePointer<Float>, images: Range<Int>, kernel u: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>
  ) {
    let (c, f, p) = (geometry.channels, filters, points)
    let tiles = images.count * tilesPerImage
    let v = Scratch.buffer(.columns, count: tiles * p * c)
    transformInput(x, images: images, into: v)
    let m = Scratch.buffer(.transformed, count: tiles * p * f)
    for xi in 0..<p {
      gemm(
        m: tiles, n: f, k: c, a: v + xi * c, lda: p * c, transA: false, b: u + xi * c * f, ldb: f, transB: false,
        c: m + xi * f, ldc: p * f, accumulate: false, parallel: false)
    }
    transformOutput(m, images: images, into: out)
  }

  /// The backward pass of `images`: their row gradient `dz` [images, outH, outW, out] adds
  /// V[:, ξ, :]ᵀ dM[:, ξ, :] into (or, unless `accumulate`, writes it to) the transformed
  /// kernel gradient `du` [α², in, out], and, given `dx` (the chunk's first image) and the
  /// transformed kernel transposed, `ut` [α², out, in], writes the chunk's input gradient.
  package func backward(
    _ x: UnsafePointer<Float>, images: Range<Int>, dz: UnsafePointer<Float>, kernelT ut: UnsafePointer<Float>?,
    kernelGradient du: UnsafeMutablePointer<Float>, accumulate: Bool, dx: UnsafeMutablePointer<Float>?
  ) {
    let (c, f, p) = (geometry.channels, filters, points)
    let tiles = images.count * tilesPerImage
    let v = Scratch.buffer(.columns, count: tiles * p * c)
    transformInput(x, images: images, into: v)
    let dm = Scratch.buffer(.transformed, count: tiles * p * f)
    transformOutputGradient(dz, images: images, into: dm)
    for xi in 0..<p {
      gemm(
        m: c, n: f, k: tiles, a: v + xi * c, lda: p * c, transA: true, b: dm + xi * f, ldb: p * f, transB: false,
        c: du + xi * c * f, ldc: f, accumulate: accumulate, parallel: false)
      guard let ut else { continue }
      // dV overwrites V's slot ξ, which no later product reads.
      gemm(
        m: tiles, n: c, k: f, a: dm + xi * f, lda: p * f, transA: false, b: ut + xi * f * c, ldb: c, transB: false,
        c: v + xi * c, ldc: p * c, accumulate: false, parallel: false)
    }
    if let dx { transformInputGradient(v, images: images, into: dx) }
  }

  /// The transformed kernel [α², in, out] transposed to [α², out, in].
  package func transposedKernel(_ u: UnsafePointer<Float>) -> TensorStorage {
    let (c, f) = (geometry.channels, filters)
    let ut = TensorStorage(count: points * c * f, zeroed: false)
    for xi in 0..<points { transpose(u + xi * c * f, rows: c, cols: f, into: ut.pointer + xi * c * f) }
    return ut
  }

  // MARK: Tile transforms

  /// One tile's transform: written out for F(4×4), by its matrix for F(2×2).
  @inline(__always) private func transform(
    _ t: WinogradTransform, _ input: UnsafePointer<Float>, inRow: Int, inColumn: Int,
    _ output: UnsafeMutablePointer<Float>,
    outRow: Int, outColumn: Int, length: Int, accumulate: Bool = false
  ) {
    if tile == .f4 {
      f4Transform(
        t, input, inRow: inRow, inColumn: inColumn, output, outRow: outRow, outColumn: outColumn, length: length,
        accumulate: accumulate)
      return
    }
    let matrix: SmallMatrix
    switch t {
    case .input: matrix = inputMatrix
    case .output: matrix = outputMatrix
    case .outputAdjoint: matrix = outputAdjoint
    case .inputAdjoint: matrix = inputAdjoint
    }
    sandwich(
      matrix, input, inRow: inRow, inColumn: inColumn, output, outRow: outRow, outColumn: outColumn, length: length,
      accumulate: accumulate)
  }

  /// The first row and column of tile `t` of an image, in input coordinates.
  @inline(__always) private func origin(_ t: Int) -> (y: Int, x: Int) {
    ((t / tilesX) * tile.m - geometry.padTop, (t % tilesX) * tile.m - geometry.padLeft)
  }

  /// Whether an α×α input tile at (y0, x0) lies inside the image.
  @inline(__always) private func inside(_ y0: Int, _ x0: Int) -> Bool {
    y0 >= 0 && x0 >= 0 && y0 + tile.alpha <= geometry.height && x0 + tile.alpha <= geometry.width
  }

  /// V = Bᵀ d B for every tile of `images`, the tiles read with zeros outside the image (a
  /// tile inside it is read in place).
  private func transformInput(_ x: UnsafePointer<Float>, images: Range<Int>, into v: UnsafeMutablePointer<Float>) {
    let (g, a, c, p) = (geometry, tile.alpha, geometry.channels, points)
    let d = Scratch.buffer(.tile, count: p * c)
    for (k, n) in images.enumerated() {
      let image = x + n * g.height * g.width * c
      for t in 0..<tilesPerImage {
        let (y0, x0) = origin(t)
        let out = v + (k * tilesPerImage + t) * p * c
        if inside(y0, x0) {
          transform(
            .input, image + (y0 * g.width + x0) * c, inRow: g.width * c, inColumn: c, out, outRow: a * c,
            outColumn: c, length: c)
          continue
        }
        for i in 0..<a {
          for j in 0..<a {
            let (yy, xx) = (y0 + i, x0 + j)
            let cell = d + (i * a + j) * c
            if yy >= 0, yy < g.height, xx >= 0, xx < g.width {
              cell.update(from: image + (yy * g.width + xx) * c, count: c)
            } else {
              cell.update(repeating: 0, count: c)
            }
          }
        }
        transform(.input, d, inRow: a * c, inColumn: c, out, outRow: a * c, outColumn: c, length: c)
      }
    }
  }

  /// Y = Aᵀ M A for every tile, written into the rows of the outputs inside the image.
  private func transformOutput(_ mm: UnsafePointer<Float>, images: Range<Int>, into out: UnsafeMutablePointer<Float>) {
    let (g, a, m, f, p) = (geometry, tile.alpha, tile.m, filters, points)
    let y = Scratch.buffer(.tile, count: m * m * f)
    for k in 0..<images.count {
      let image = out + k * g.outH * g.outW * f
      for t in 0..<tilesPerImage {
        let (y0, x0) = ((t / tilesX) * m, (t % tilesX) * m)
        let (rows, cols) = (min(m, g.outH - y0), min(m, g.outW - x0))
        let tileM = mm + (k * tilesPerImage + t) * p * f
        if rows == m && cols == m {
          transform(
            .output, tileM, inRow: a * f, inColumn: f, image + (y0 * g.outW + x0) * f, outRow: g.outW * f,
            outColumn: f, length: f)
          continue
        }
        transform(.output, tileM, inRow: a * f, inColumn: f, y, outRow: m * f, outColumn: f, length: f)
        for i in 0..<rows { (image + ((y0 + i) * g.outW + x0) * f).update(from: y + i * m * f, count: cols * f) }
      }
    }
  }

  /// dM = A dZ Aᵀ for every tile, dZ read with zeros outside the output.
  private func transformOutputGradient(
    _ dz: UnsafePointer<Float>, images: Range<Int>, into dm: UnsafeMutablePointer<Float>
  ) {
    let (g, a, m, f, p) = (geometry, tile.alpha, tile.m, filters, points)
    let d = Scratch.buffer(.tile, count: m * m * f)
    for k in 0..<images.count {
      let image = dz + k * g.outH * g.outW * f
      for t in 0..<tilesPerImage {
        let (y0, x0) = ((t / tilesX) * m, (t % tilesX) * m)
        let (rows, cols) = (min(m, g.outH - y0), min(m, g.outW - x0))
        let out = dm + (k * tilesPerImage + t) * p * f
        if rows == m && cols == m {
          transform(
            .outputAdjoint, image + (y0 * g.outW + x0) * f, inRow: g.outW * f, inColumn: f, out, outRow: a * f,
            outColumn: f, length: f)
          continue
        }
        d.update(repeating: 0, count: m * m * f)
        for i in 0..<rows { (d + i * m * f).update(from: image + ((y0 + i) * g.outW + x0) * f, count: cols * f) }
        transform(.outputAdjoint, d, inRow: m * f, inColumn: f, out, outRow: a * f, outColumn: f, length: f)
      }
    }
  }

  /// dx = Σ over tiles of B dV Bᵀ, the parts inside the image; `dx` is the chunk's first image.
  private func transformInputGradient(
    _ dv: UnsafePointer<Float>, images: Range<Int>, into dx: UnsafeMutablePointer<Float>
  ) {
    let (g, a, c, p) = (geometry, tile.alpha, geometry.channels, points)
    let d = Scratch.buffer(.tile, count: p * c)
    dx.update(repeating: 0, count: images.count * g.height * g.width * c)
    for k in 0..<images.count {
      let image = dx + k * g.height * g.width * c
      for t in 0..<tilesPerImage {
        let (y0, x0) = origin(t)
        let tileV = dv + (k * tilesPerImage + t) * p * c
        if inside(y0, x0) {
          transform(
            .inputAdjoint, tileV, inRow: a * c, inColumn: c, image + (y0 * g.width + x0) * c, outRow: g.width * c,
            outColumn: c, length: c, accumulate: true)
          continue
        }
        transform(.inputAdjoint, tileV, inRow: a * c, inColumn: c, d, outRow: a * c, outColumn: c, length: c)
        for i in 0..<a where y0 + i >= 0 && y0 + i < g.height {
          for j in 0..<a where x0 + j >= 0 && x0 + j < g.width {
            let (dst, src) = (image + ((y0 + i) * g.width + x0 + j) * c, d + (i * a + j) * c)
            for q in 0..<c { dst[q] += src[q] }
          }
        }
      }
    }
  }
}
