#!/usr/bin/env python3
"""Writes CIFAR-10 images from the binary layout as JPEG files in an image folder (one
subfolder per class), encoded by libjpeg's cjpeg: an encoder independent of the framework's
decoder, to try `cnn predict` and `cnn train --data FOLDER` on JPEG files made elsewhere.

usage: Scripts/cifar10-to-jpegs.py BATCH_FILE OUT_DIR [--count N] [--quality Q]
           [--progressive] [--sample 2x2|2x1|1x2|1x1|4x1] [--grayscale]
           [--reference-batch PATH]

BATCH_FILE is a CIFAR-10 binary batch (test_batch.bin, data_batch_1.bin, ...); batches.meta.txt
beside it names the classes. Files are named IMAGEINDEX.jpg. --reference-batch also writes
the JPEG files as libjpeg's djpeg decodes them, in the CIFAR-10 binary layout with the same
labels (gray images repeated over the three planes), so that `cnn evaluate --data` can score
the reference decoder's pixels against our decoder's (`cnn predict` on the folder).

cjpeg and djpeg come with Debian's libjpeg-turbo-progs (`apt-get install libjpeg-turbo-progs`).
Exit status: 0 written, 1 error (a missing tool or file), 2 bad command line.
"""
import argparse, os, shutil, subprocess, sys

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("batch")
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--quality", type=int, default=75)
    ap.add_argument("--progressive", action="store_true")
    ap.add_argument("--sample", default="2x2", choices=["2x2", "2x1", "1x2", "1x1", "4x1"])
    ap.add_argument("--grayscale", action="store_true")
    ap.add_argument("--reference-batch")
    a = ap.parse_args()
    if not 1 <= a.quality <= 100 or a.count < 1:
        ap.error("--quality runs 1 to 100 and --count is at least 1")
    for tool in ["cjpeg"] + (["djpeg"] if a.reference_batch else []):
        if shutil.which(tool) is None:
            print("error: %s is not installed (Debian: apt-get install libjpeg-turbo-progs)" % tool, file=sys.stderr)
            return 1
    meta = os.path.join(os.path.dirname(a.batch), "batches.meta.txt")
    names = [l.strip() for l in open(meta) if l.strip()] if os.path.exists(meta) else [str(i) for i in range(10)]
    data = open(a.batch, "rb").read()
    options = ["-quality", str(a.quality), "-sample", a.sample] + (["-progressive"] if a.progressive else [])
    options += ["-grayscale"] if a.grayscale else []
    reference = bytearray()
    n = min(a.count, len(data) // 3073)
    for i in range(n):
        rec = data[i * 3073 : (i + 1) * 3073]
        label, planes = rec[0], rec[1:]
        ppm = b"P6\n32 32\n255\n" + bytes(planes[c * 1024 + p] for p in range(1024) for c in range(3))
        jpeg = subprocess.run(["cjpeg"] + options, input=ppm, capture_output=True, check=True).stdout
        folder = os.path.join(a.out, names[label])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "%05d.jpg" % i), "wb") as f:
            f.write(jpeg)
        if a.reference_batch:
            pnm = subprocess.run(["djpeg", "-pnm"], input=jpeg, capture_output=True, check=True).stdout
            pixels = pnm[-1024 * (1 if a.grayscale else 3):]
            channels = 1 if a.grayscale else 3
            reference += bytes([label]) + b"".join(
                bytes(pixels[p * channels + (c if channels == 3 else 0)] for p in range(1024)) for c in range(3))
    if a.reference_batch:
        with open(a.reference_batch, "wb") as f:
            f.write(reference)
    print("wrote %d JPEG files (cjpeg %s) to %s" % (n, " ".join(options), a.out))
    return 0

if __name__ == "__main__":
    sys.exit(main())
