#!/usr/bin/env bash
# Puts CIFAR-10 (binary layout) in Datasets/cifar-10-batches-bin. Run with --help for usage.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: Scripts/get-cifar10.sh [--archive PATH] [--dest DIR]

Puts CIFAR-10 (binary layout) in DIR/cifar-10-batches-bin, by default
Datasets/cifar-10-batches-bin. Does nothing when the files are already there.

options:
  --archive PATH   use this local cifar-10-binary.tar.gz instead of downloading
                   (default: $CIFAR10_ARCHIVE when set, else download the official archive)
  --dest DIR       where cifar-10-batches-bin goes (default: Datasets/)
  --help           this text

An archive must match a known checksum: the official release's MD5, or the SHA-256 of the
JPEG-rebuilt mirror some machines carry. Set CIFAR10_SHA256 to accept another archive.

Exit status: 0 ready, 1 error (download failed, unknown checksum, ...), 2 bad command line.
USAGE
}

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/Datasets"
archive="${CIFAR10_ARCHIVE:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --archive | --dest)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "error: $1 needs a value; see Scripts/get-cifar10.sh --help" >&2; exit 2; }
      if [ "$1" = --archive ]; then archive="$2"; else dest="$2"; fi
      shift 2 ;;
    *) echo "error: unknown argument '$1'; see Scripts/get-cifar10.sh --help" >&2; exit 2 ;;
  esac
done

out="$dest/cifar-10-batches-bin"
url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
official_md5="c32a1d4ab5d03f1284b67883e8d87530"
mirror_sha256="d2668be43fcd82d17dd26658ce4418fca90fe3518faad5bdc0c50fb8684d45bb"
files="batches.meta.txt data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin"

# complete DIR: DIR holds every file of the binary layout, each .bin at its full size.
complete() {
  for f in $files; do [ -s "$1/$f" ] || return 1; done
  for f in $files; do
    case "$f" in *.bin) [ "$(wc -c < "$1/$f")" -eq 30730000 ] || return 1 ;; esac
  done
}

if complete "$out"; then
  echo "CIFAR-10 is ready in $out"
  exit 0
fi

mkdir -p "$dest"
if [ -n "$archive" ]; then
  [ -f "$archive" ] || { echo "error: the archive $archive does not exist" >&2; exit 1; }
  echo "Using the local archive $archive"
else
  archive="$dest/cifar-10-binary.tar.gz"
  if [ ! -f "$archive" ]; then
    echo "Downloading $url"
    if ! curl -fL --retry 3 -o "$archive.part" "$url"; then
      rm -f "$archive.part"
      echo "error: download failed; without internet, pass --archive (or set CIFAR10_ARCHIVE to) a local cifar-10-binary.tar.gz" >&2
      exit 1
    fi
    mv "$archive.part" "$archive"
  fi
fi

md5=$(md5sum "$archive" | cut -d' ' -f1)
sha=$(sha256sum "$archive" | cut -d' ' -f1)
if [ "$md5" = "$official_md5" ]; then
  echo "Checksum OK: the official CIFAR-10 binary release"
elif [ "$sha" = "$mirror_sha256" ]; then
  echo "Checksum OK: the JPEG-rebuilt CIFAR-10 mirror (accuracies may sit slightly below the original's)"
elif [ -n "${CIFAR10_SHA256:-}" ] && [ "$sha" = "$CIFAR10_SHA256" ]; then
  echo "Checksum OK: matches CIFAR10_SHA256"
else
  echo "error: $archive matches no known checksum (md5 $md5, sha256 $sha); set CIFAR10_SHA256 to accept it" >&2
  exit 1
fi

tmp="$(mktemp -d "$dest/.extract.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$archive" -C "$tmp"
[ -d "$tmp/cifar-10-batches-bin" ] || { echo "error: the archive has no cifar-10-batches-bin folder" >&2; exit 1; }
# Checked before it replaces anything, so a bad archive leaves no half dataset behind.
complete "$tmp/cifar-10-batches-bin" || { echo "error: the archive's cifar-10-batches-bin is incomplete after extraction" >&2; exit 1; }
rm -rf "$out"
mv "$tmp/cifar-10-batches-bin" "$out"
echo "CIFAR-10 is ready in $out"
