// Elementwise and reduction kernels over raw pointers, vectorised with SIMD8.

/// dst[i] += src[i]
@inline(__always)
package func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
  var i = 0
  let d = UnsafeMutableRawPointer(dst)
  let s = UnsafeRawPointer(src)
  while i + 8 <= n {
    let v =
      d.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
    d.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
    i += 8
  }
  while i < n {
    dst[i] += src[i]
    i += 1
  }
}

/// dst[i] = src[i] for short runs, inline (a `memmove` call costs more than a few vectors).
/// The buffers must not overlap: a tail shorter than a vector is copied as the last whole
/// vector of the run, rewriting a few floats already copied.
@inline(__always)
package func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
  typealias V = SIMD8<Float>
  let d = UnsafeMutableRawPointer(dst)
  let s = UnsafeRawPointer(src)
  if n < 8 {
    for i in 0..<n { dst[i] = src[i] }
    return
  }
  var i = 0
  while i + 8 <= n {
    d.storeBytes(of: s.loadUnaligned(fromByteOffset: i * 4, as: V.self), toByteOffset: i * 4, as: V.self)
    i += 8
  }
  if i < n {
    d.storeBytes(of: s.loadUnaligned(fromByteOffset: (n - 8) * 4, as: V.self), toByteOffset: (n - 8) * 4, as: V.self)
  }
}

/// Sums `rows` rows of length `n` into out[n] (out = sum, not accumulated). Each column is
/// added top to bottom starting from 0, 32 columns at a time in registers. Rows lie `ldx`
/// floats apart (n unless given).
package func sumRows(
  _ x: UnsafePointer<Float>, rows: Int, n: Int, ldx: Int? = nil, into out: UnsafeMutablePointer<Float>
) {
  typealias V = SIMD8<Float>
  let ldx = ldx ?? n
  let xr = UnsafeRawPointer(x)
  let o = UnsafeMutableRawPointer(out)
  var j = 0
  while j + 32 <= n {
    var a0 = V(), a1 = V(), a2 = V(), a3 = V()
    for r in 0..<rows {
      let p = (r * ldx + j) * 4
      a0 += xr.loadUnaligned(fromByteOffset: p, as: V.self)
      a1 += xr.loadUnaligned(fromByteOffset: p + 32, as: V.self)
      a2 += xr.loadUnaligned(fromByteOffset: p + 64, as: V.self)
      a3 += xr.loadUnaligned(fromByteOffset: p + 96, as: V.self)
    }
    o.storeBytes(of: a0, toByteOffset: j * 4, as: V.self)
    o.storeBytes(of: a1, toByteOffset: j * 4 + 32, as: V.self)
    o.storeBytes(of: a2, toByteOffset: j * 4 + 64, as: V.self)
    o.storeBytes(of: a3, toByteOffset: j * 4 + 96, as: V.self)
    j += 32
  }
  while j + 8 <= n {
    var a = V()
    for r in 0..<rows { a += xr.loadUnaligned(fromByteOffset: (r * ldx + j) * 4, as: V.self) }
    o.storeBytes(of: a, toByteOffset: j * 4, as: V.self)
    j += 8
  }
  while j < n {
    var a: Float = 0
    for r in 0..<rows { a += x[r * ldx + j] }
    out[j] = a
    j += 1
  }
}

/// `sumRows` with the columns split over the threads in pieces of 2048, for wide sums (the
/// per-chunk kernel gradients of a convolution): each column's sum is the same as
/// `sumRows` gives.
package func sumRowsInParallel(_ x: UnsafePointer<Float>, rows: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
  let piece = 2048
  parallelFor((n + piece - 1) / piece) { i in
    let j = i * piece
    sumRows(x + j, rows: rows, n: min(piece, n - j), ldx: n, into: out + j)
  }
}

extension Tensor {
  /// self += other, elementwise; throws when shapes differ.
  public func add(_ other: Tensor) throws {
    guard shape == other.shape else {
      throw TensorError("cannot add a tensor of shape \(other.shape) to one of shape \(shape)")
    }
    addInPlace(data, other.data, count)
  }

  public func sum() -> Double {
    var s = 0.0
    for i in 0..<count { s += Double(data[i]) }
    return s
  }

  public func max() -> Float {
    var m = -Float.infinity
    for i in 0..<count where data[i] > m { m = data[i] }
    return m
  }

  /// Index of the largest value in each row of a [rows, n] tensor.
  public func argmaxRows() -> [Int] {
    let n = shape.last ?? 1
    let rows = n == 0 ? 0 : count / n
    return (0..<rows).map { r in
      let p = data + r * n
      var best = 0
      for j in 1..<n where p[j] > p[best] { best = j }
      return best
    }
  }
}
