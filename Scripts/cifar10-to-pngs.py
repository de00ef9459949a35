#!/usr/bin/env python3
"""Writes CIFAR-10 images from the binary layout as PNG files in an image folder (one
subfolder per class), with Python's own zlib: an encoder independent of the framework's
decoder, to try `cnn predict` and `cnn train --data FOLDER` on files made elsewhere.

usage: Scripts/cifar10-to-pngs.py BATCH_FILE OUT_DIR [--count N] [--kinds rgb,rgba,rgb16,palette,gray]

BATCH_FILE is a CIFAR-10 binary batch (test_batch.bin, data_batch_1.bin, ...); batches.meta.txt
beside it names the classes. Image i is written as kind i mod len(kinds): rgb (8-bit RGB),
rgba (alpha 255), rgb16 (16-bit RGB, the low byte a copy of the high one), palette (8-bit
indices, for images of at most 256 colours; others fall back to rgb), gray (8-bit luma:
not the same pixels). Files are named IMAGEINDEX-KIND.png.
"""
import argparse, os, struct, sys, zlib

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

def png(width, height, depth, ctype, rows, palette=None):
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, ctype, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(palette))
    return out + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")

def encode(pixels, kind):
    """pixels: 32 rows of 32 (r, g, b) tuples."""
    if kind == "palette":
        colours = sorted({p for row in pixels for p in row})
        if len(colours) <= 256:
            index = {c: i for i, c in enumerate(colours)}
            rows = [bytes(index[p] for p in row) for row in pixels]
            return png(32, 32, 8, 3, rows, [v for c in colours for v in c]), "palette"
        kind = "rgb"
    if kind == "rgba":
        return png(32, 32, 8, 6, [bytes(v for p in row for v in p + (255,)) for row in pixels]), kind
    if kind == "rgb16":
        return png(32, 32, 16, 2, [bytes(v for p in row for c in p for v in (c, c)) for row in pixels]), kind
    if kind == "gray":
        luma = lambda p: min(255, int(round(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])))
        return png(32, 32, 8, 0, [bytes(luma(p) for p in row) for row in pixels]), kind
    return png(32, 32, 8, 2, [bytes(v for p in row for v in p) for row in pixels]), "rgb"

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("batch")
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--kinds", default="rgb,rgba,rgb16,palette")
    a = ap.parse_args()
    kinds = a.kinds.split(",")
    meta = os.path.join(os.path.dirname(a.batch), "batches.meta.txt")
    names = [l.strip() for l in open(meta) if l.strip()] if os.path.exists(meta) else [str(i) for i in range(10)]
    data = open(a.batch, "rb").read()
    written = {}
    for i in range(min(a.count, len(data) // 3073)):
        rec = data[i * 3073 : (i + 1) * 3073]
        label, planes = rec[0], rec[1:]
        pixels = [[(planes[y * 32 + x], planes[1024 + y * 32 + x], planes[2048 + y * 32 + x]) for x in range(32)] for y in range(32)]
        blob, kind = encode(pixels, kinds[i % len(kinds)])
        folder = os.path.join(a.out, names[label])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "%05d-%s.png" % (i, kind)), "wb") as f:
            f.write(blob)
        written[kind] = written.get(kind, 0) + 1
    print("wrote", sum(written.values()), "PNG files to", a.out, dict(sorted(written.items())))

if __name__ == "__main__":
    sys.exit(main())
