#!/usr/bin/env bash
# Runs the README's fast-recipe example (Sources/RecipeExample) on the first 2,048 training
# and 409 test images of CIFAR-10, unpacked from $CIFAR10_ARCHIVE (default: the archive in
# ../shared/datasets) into a temporary folder, and checks that it trained and evaluated.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" = "--help" ]; then sed -n 2,4p "$0" | sed 's/^# //'; exit 0; fi
archive="${CIFAR10_ARCHIVE:-$root/../shared/datasets/cifar-10-binary.tar.gz}"
if [ ! -f "$archive" ]; then
  echo "no CIFAR-10 archive ($archive): the example was compiled, not run"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
out="$("$root/.build/release/RecipeExample" "$work/cifar-10-batches-bin" 2048 | tee /dev/stderr)"
grep -q "^Epoch 8/8$" <<<"$out" || { echo "the example did not train 8 epochs"; exit 1; }
grep -q "^test accuracy with six views: 0\.[0-9]" <<<"$out" || { echo "the example printed no accuracy"; exit 1; }
echo "recipe example: trained and evaluated"
