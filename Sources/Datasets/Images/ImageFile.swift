import Foundation
import Tensors

/// What a decoder has read of an image before its pixels: its size and channels as decoded
/// (1 for gray, 3 for colour).
struct ImageHeader {
  let width: Int, height: Int, channels: Int
}

/// The limits on an image file: the work a file may ask for and the memory a decoder may take,
/// checked from the header before any pixel is decoded or any buffer allocated.
enum ImageLimits {
  /// The longest side: a row's buffers stay under 1 MB.
  static let side = 1 << 16
  /// Pixels decoded from one file (a 16384x16384 image); decoding is row by row, so this
  /// bounds the time, not the memory.
  static let pixels = 1 << 28
  /// Pixels of an image kept whole, not resized while it is read (or interlaced, whose passes
  /// need the whole image): 16M pixels, 48 MB of RGB.
  static let wholePixels = 1 << 24

  /// Refuses a header past the work limits; `format` names the file kind in messages.
  static func check(_ header: ImageHeader, _ format: String) throws {
    let (w, h) = (header.width, header.height)
    guard w > 0, h > 0 else { throw ImageFileError("the \(format) image is \(w)x\(h)") }
    guard w <= side, h <= side else {
      throw ImageFileError("the \(format) image is \(w)x\(h), more than this reader's limit of \(side) pixels a side")
    }
    guard w * h <= pixels else {
      throw ImageFileError(
        "the \(format) image is \(w)x\(h), \(w * h) pixels, more than this reader's limit of \(pixels) pixels")
    }
  }
}

extension PixelImage {
  /// Reads a JPEG, PNG, PGM or PPM file, told apart by its first bytes, whole. Errors name the file.
  /// Images of more than 16M pixels are refused here: read them resized.
  public init(contentsOf path: String) throws {
    self = try decodeImageFile(path, target: wholeImage)
  }

  /// Reads a JPEG, PNG, PGM or PPM file resized to `height` × `width` with `channels` (see
  /// `resized`) while it is decoded, a row at a time: memory grows with the target, not with
  /// the file, so a 50-megapixel photo is read in a few MB.
  public init(contentsOf path: String, height: Int, width: Int, channels: Int) throws {
    self = try decodeImageFile(path) { _ in (height, width, channels) }
  }
}

/// The target of an image read whole: its own size, up to `ImageLimits.wholePixels`.
func wholeImage(_ header: ImageHeader) throws -> (Int, Int, Int) {
  guard header.width * header.height <= ImageLimits.wholePixels else {
    throw ImageFileError(
      "the image is \(header.width)x\(header.height), more than the \(ImageLimits.wholePixels) pixels read whole; read it resized"
    )
  }
  return (header.height, header.width, header.channels)
}

/// Decodes the image file at `path`; `target` sees its header and gives the size to decode it
/// to (height, width, channels), or throws to refuse it.
func decodeImageFile(_ path: String, target: (ImageHeader) throws -> (Int, Int, Int)) throws -> PixelImage {
  var source: ByteSource
  do {
    source = try ByteSource(file: path)
  } catch let e as TensorError {
    throw ImageFileError(e.message)
  }
  defer { source.closeFile() }
  do {
    return try decodeImage(&source, target: target)
  } catch let error as ImageFileError {
    throw ImageFileError("\(quoted(path)): \(error)")
  } catch let e as TensorError {
    throw ImageFileError(e.message)
  }
}

/// Decodes a JPEG, PNG, PGM or PPM image from `source`, told apart by its first byte.
func decodeImage(_ source: inout ByteSource, target: (ImageHeader) throws -> (Int, Int, Int)) throws -> PixelImage {
  let first = try source.next(upTo: 1)
  switch first.first {
  case 137: return try decodePNG(&source, target: target)
  case 80: return try decodePNM(&source, target: target)
  case 0xFF: return try decodeJPEG(&source, target: target)
  default: throw ImageFileError("not a JPEG, PNG, PGM or PPM file")
  }
}
