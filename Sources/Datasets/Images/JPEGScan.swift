// A JPEG scan: its header checked, its MCUs walked (interleaved, or one component's blocks
// in raster order), restart markers handled, and each block's coefficients decoded:
// sequential blocks go straight through the inverse DCT, progressive ones are kept and
// refined scan by scan.

/// A progressive image's coefficients: every block of every component, zeroed at the start.
final class CoefficientBuffer {
  let pointer: UnsafeMutablePointer<Int16>
  let count: Int

  init(count: Int) {
    self.count = count
    pointer = .allocate(capacity: count)
    pointer.initialize(repeating: 0, count: count)
  }

  deinit { pointer.deallocate() }
}

/// What a scan codes: its components (indices into the frame's), its band of coefficients
/// (`start...end` in zigzag order) and its successive-approximation bits.
private struct ScanHeader {
  var components: [Int] = []
  var start = 0, end = 63, high = 0, low = 0
}

/// Coefficients a progressive image may keep: 256 MB.
private let maximumCoefficients = 1 << 27

extension JPEGDecoder {
  func readScan(_ s: [UInt8]) throws {
    let scan = try scanHeader(s)
    if progressive && buffers.isEmpty {
      let total = components.reduce(0) { $0 + $1.blocksWide * $1.blocksHigh * 64 }
      guard total <= maximumCoefficients else {
        throw ImageFileError(
          "the progressive JPEG image is \(width)x\(height): its coefficients would take more than \((maximumCoefficients * 2) >> 20) MB"
        )
      }
      buffers = components.map { CoefficientBuffer(count: $0.blocksWide * $0.blocksHigh * 64) }
    }
    for c in components.indices { components[c].predictor = 0 }
    eobRun = 0
    let single = scan.components.count == 1
    let first = components[scan.components[0]]
    let (across, down) = single ? (first.usedWide, first.usedHigh) : (mcusWide, mcusHigh)
    // Work: scans may go over every coefficient of the image 12 times in all (libjpeg's
    // progressive files take about 3), so that many small scans cannot make a long decode.
    let blocks = scan.components.reduce(0) {
      $0 + (single ? first.usedWide * first.usedHigh : mcusWide * mcusHigh * components[$1].h * components[$1].v)
    }
    let everything = components.reduce(0) { $0 + $1.blocksWide * $1.blocksHigh } * 64
    work += blocks * (scan.end - scan.start + 1)
    guard work <= 12 * everything else {
      throw ImageFileError("the JPEG file's scans go over its coefficients more than 12 times")
    }
    var block = [Int16](repeating: 0, count: 64)
    for mcu in 0..<(across * down) {
      if restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0 {
        let marker = try bits.nextMarker()
        guard (0xD0...0xD7).contains(marker) else {
          throw ImageFileError("the JPEG data has the marker \(hex(marker)) where a restart marker belongs")
        }
        for c in components.indices { components[c].predictor = 0 }
        eobRun = 0
      }
      let (my, mx) = (mcu / across, mcu % across)
      for c in scan.components {
        let (h, v) = single ? (1, 1) : (components[c].h, components[c].v)
        for by in 0..<v {
          for bx in 0..<h {
            try decodeBlock(c, row: my * v + by, col: mx * h + bx, scan, &block)
          }
        }
      }
    }
  }

  /// One block: decoded into `block` and through the inverse DCT (sequential), or into the
  /// kept coefficients (progressive).
  private func decodeBlock(_ c: Int, row: Int, col: Int, _ scan: ScanHeader, _ block: inout [Int16]) throws {
    guard progressive else {
      for k in 0..<64 { block[k] = 0 }
      try block.withUnsafeMutableBufferPointer { try sequentialBlock(c, $0.baseAddress!) }
      block.withUnsafeBufferPointer {
        output!.put(c, row: row, col: col, $0.baseAddress!, quant: quant[components[c].quantTable])
      }
      return
    }
    let at = buffers[c].pointer + (row * components[c].blocksWide + col) * 64
    switch (scan.start == 0, scan.high == 0) {
    case (true, true):
      let t = try dcTables[components[c].dcTable]!.decode(&bits)
      components[c].predictor &+= try bits.signed(t)
      at[0] = Int16(truncatingIfNeeded: components[c].predictor << scan.low)
    case (true, false):
      if try bits.bit() == 1 { at[0] |= Int16(truncatingIfNeeded: 1 << scan.low) }
    case (false, true): try firstACPass(c, at, scan)
    case (false, false): try refineACPass(c, at, scan)
    }
  }

  /// A sequential block: the DC difference, then run-length coded AC coefficients (F.2.2).
  private func sequentialBlock(_ c: Int, _ block: UnsafeMutablePointer<Int16>) throws {
    let t = try dcTables[components[c].dcTable]!.decode(&bits)
    components[c].predictor &+= try bits.signed(t)
    block[0] = Int16(truncatingIfNeeded: components[c].predictor)
    let ac = acTables[components[c].acTable]!
    var k = 1
    while k < 64 {
      let rs = try ac.decode(&bits)
      let (r, s) = (rs >> 4, rs & 15)
      if s == 0 {
        if r != 15 { break }
        k += 16
        continue
      }
      k += r
      guard k < 64 else { throw ImageFileError("a JPEG block runs past its 64 coefficients") }
      block[zigzag[k]] = Int16(truncatingIfNeeded: try bits.signed(s))
      k += 1
    }
  }

  /// A progressive AC band's first pass (G.1.2.2): values, runs of zeros, runs of empty blocks.
  private func firstACPass(_ c: Int, _ block: UnsafeMutablePointer<Int16>, _ scan: ScanHeader) throws {
    if eobRun > 0 {
      eobRun -= 1
      return
    }
    let ac = acTables[components[c].acTable]!
    var k = scan.start
    while k <= scan.end {
      let rs = try ac.decode(&bits)
      let (r, s) = (rs >> 4, rs & 15)
      if s == 0 {
        if r < 15 {
          eobRun = (1 << r) - 1 + (try bits.bits(r))
          return
        }
        k += 16
        continue
      }
      k += r
      guard k <= scan.end else { throw ImageFileError("a JPEG block runs past its band of coefficients") }
      block[zigzag[k]] = Int16(truncatingIfNeeded: (try bits.signed(s)) << scan.low)
      k += 1
    }
  }

  /// A progressive AC band's refinement (G.1.2.3): one more bit of every nonzero
  /// coefficient, and new coefficients of magnitude 1 placed among the zeros, as libjpeg does.
  private func refineACPass(_ c: Int, _ block: UnsafeMutablePointer<Int16>, _ scan: ScanHeader) throws {
    let (plus, minus) = (Int16(1 << scan.low), Int16(truncatingIfNeeded: -1 << scan.low))
    func refine(_ z: Int) throws {
      if try bits.bit() == 1 && block[z] & plus == 0 { block[z] &+= block[z] >= 0 ? plus : minus }
    }
    var k = scan.start
    if eobRun == 0 {
      let ac = acTables[components[c].acTable]!
      while k <= scan.end {
        let rs = try ac.decode(&bits)
        var r = rs >> 4
        var value: Int16 = 0
        switch rs & 15 {
        case 0:
          if r < 15 {
            eobRun = (1 << r) + (try bits.bits(r))
            break
          }
        case 1: value = try bits.bit() == 1 ? plus : minus
        default: throw ImageFileError("a JPEG refinement holds a coefficient larger than one step")
        }
        if eobRun > 0 { break }
        // Skip r zero coefficients (refining the nonzero ones passed), then place the value.
        while k <= scan.end {
          let z = zigzag[k]
          if block[z] != 0 {
            try refine(z)
          } else {
            if r == 0 { break }
            r -= 1
          }
          k += 1
        }
        if value != 0 {
          guard k <= scan.end else { throw ImageFileError("a JPEG refinement runs past its band") }
          block[zigzag[k]] = value
        }
        k += 1
      }
    }
    if eobRun > 0 {
      while k <= scan.end {
        if block[zigzag[k]] != 0 { try refine(zigzag[k]) }
        k += 1
      }
      eobRun -= 1
    }
  }

  /// The scan header, checked against the frame and the tables defined so far.
  private func scanHeader(_ s: [UInt8]) throws -> ScanHeader {
    guard let n = s.first.map(Int.init), (1...4).contains(n), s.count == 4 + 2 * n else {
      throw ImageFileError("the JPEG scan header is damaged")
    }
    var scan = ScanHeader()
    for i in 0..<n {
      guard let c = components.firstIndex(where: { $0.id == s[1 + 2 * i] }), !scan.components.contains(c) else {
        throw ImageFileError("a JPEG scan names the component \(s[1 + 2 * i]), which the frame lacks or repeats")
      }
      scan.components.append(c)
      (components[c].dcTable, components[c].acTable) = (Int(s[2 + 2 * i]) >> 4, Int(s[2 + 2 * i]) & 15)
    }
    (scan.start, scan.end) = (Int(s[1 + 2 * n]), Int(s[2 + 2 * n]))
    (scan.high, scan.low) = (Int(s[3 + 2 * n]) >> 4, Int(s[3 + 2 * n]) & 15)
    if progressive {
      let valid =
        scan.start <= scan.end && scan.end <= 63 && (scan.start == 0 ? scan.end == 0 : n == 1) && scan.low <= 13
        && (scan.high == 0 || scan.low == scan.high - 1)
      guard valid else { throw ImageFileError("a progressive JPEG scan has an invalid band or bit position") }
    } else {
      guard scan.start == 0, scan.end == 63, scan.high == 0, scan.low == 0 else {
        throw ImageFileError("a sequential JPEG scan does not code all 64 coefficients")
      }
    }
    let units = scan.components.reduce(0) { $0 + components[$1].h * components[$1].v }
    guard n == 1 || units <= 10 else { throw ImageFileError("a JPEG scan has \(units) blocks per MCU, more than 10") }
    for c in scan.components {
      let needsDC = !progressive || (scan.start == 0 && scan.high == 0)
      let needsAC = !progressive || scan.start > 0
      let (dc, ac) = (components[c].dcTable, components[c].acTable)
      guard !needsDC || (dc < 4 && dcTables[dc] != nil), !needsAC || (ac < 4 && acTables[ac] != nil) else {
        throw ImageFileError("a JPEG scan uses a Huffman table the file does not define")
      }
      guard quant[components[c].quantTable].count == 64 else {
        throw ImageFileError("the JPEG file lacks quantisation table \(components[c].quantTable)")
      }
    }
    return scan
  }
}
