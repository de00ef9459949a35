#!/usr/bin/env bash
# One command from a fresh clone: fetch CIFAR-10, build in release, train the seed model.
# Extra arguments go to `cnn train` (see `cnn train --help`), for example --epochs 3.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/get-cifar10.sh
swift build -c release --product cnn
exec .build/release/cnn train "$@"
