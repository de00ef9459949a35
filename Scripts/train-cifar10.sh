#!/usr/bin/env bash
# One command from a fresh clone: fetch CIFAR-10, build in release, train the seed model.
# Run with --help for usage.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'USAGE'
usage: Scripts/train-cifar10.sh [--archive PATH] [cnn train options]

Fetches CIFAR-10 into Datasets/ (Scripts/get-cifar10.sh), builds the release
configuration and trains the default model (cnn train): 10 epochs, batch 32, Adam 0.001,
seed 0, checkpoints in runs/.

options:
  --archive PATH   a local cifar-10-binary.tar.gz to use instead of downloading
                   (default: $CIFAR10_ARCHIVE when set, else download the official archive)
  --help           this text

Every other argument goes to cnn train, for example --epochs 3 or --batch-size 128; see
'cnn train --help' for them all (.build/release/cnn train --help once built).

Exit status: that of get-cifar10.sh, the build or cnn train; 2 for a bad command line.
USAGE
}

fetch=()
train=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --archive)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "error: --archive needs a value; see Scripts/train-cifar10.sh --help" >&2; exit 2; }
      fetch=(--archive "$2")
      shift 2 ;;
    *) train+=("$1"); shift ;;
  esac
done

Scripts/get-cifar10.sh "${fetch[@]}"
swift build -c release --product cnn
exec .build/release/cnn train "${train[@]}"
