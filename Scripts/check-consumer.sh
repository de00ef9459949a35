#!/usr/bin/env bash
# Builds packages of their own that depend on this one, as users' packages do, in each
# dependency form, from a file:// clone of the checkout's HEAD commit.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") ;;
  -h | --help)
    cat <<'USAGE'
usage: Scripts/check-consumer.sh

Clones the checkout's HEAD commit into a temporary folder, tags the clone 0.1.0, and
builds consumer packages (release) that depend on it:
  version  .package(url: "file://CLONE", from: "0.1.0"): builds (the portable kernels;
           SwiftPM allows no unsafe flags in a version dependency), then trains the model
           of Tests/Consumer/Model, saves it, and checks that `cnn evaluate --checkpoint`
           with no --model (built from the same dependency) reports the same test accuracy;
  branch   .package(url: "file://CLONE", branch: BRANCH) with CNN_NATIVE=1: builds with
           the native x86 flags, which a branch dependency allows;
  path     .package(path: CLONE): builds (native flags);
  misuse   the path consumer with Tests/Consumer/Misuse/main.swift: must fail to compile,
           because the kernels (gemm, Threads) are not public.
DATA_DIR, when set, is the CIFAR-10 directory the model trains on (default: synthetic
files written by the consumer). CI runs it.

Each build's binary is checked for the AVX-512 kernels, which only the native flags compile.
Needs git and nm. KEEP=1 keeps the temporary folder.

Exit status: 0 all as expected, 1 something built or failed unexpectedly, 2 bad command line.
USAGE
    exit 0 ;;
  *) echo "error: unknown argument '$1'; see Scripts/check-consumer.sh --help" >&2; exit 2 ;;
esac
root=$(pwd)
work=$(mktemp -d)
[ -z "${KEEP:-}" ] || echo "consumer check: working in $work"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/cnn"
git -C "$work/cnn" tag | xargs -r git -C "$work/cnn" tag -d >/dev/null
git -C "$work/cnn" tag 0.1.0
# A branch of our own: the checkout may be on a detached HEAD (as CI's clones often are).
branch=consumer-check
git -C "$work/cnn" checkout --quiet -B "$branch"

# consumer NAME DEPENDENCY MAIN: a package NAME whose executable Consumer is MAIN.
consumer() {
  mkdir -p "$work/$1/Sources/Consumer"
  cp "$3" "$work/$1/Sources/Consumer/main.swift"
  cat >"$work/$1/Package.swift" <<MANIFEST
// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "Consumer",
  dependencies: [$2],
  targets: [.executableTarget(name: "Consumer", dependencies: [.product(name: "CNN", package: "cnn")])]
)
MANIFEST
}
# SwiftPM may reuse a cached evaluation of the same manifest made for another form (or
# environment), so each build evaluates the manifests afresh.
build() {
  local log
  if ! log=$(swift build -c release --package-path "$work/$1" --manifest-cache none "${@:2}" 2>&1); then
    echo "$log" | grep -m 20 -E "error|warning: unsafe" >&2 || echo "$log" | tail -n 20 >&2
    echo "consumer check: the $1 consumer did not build" >&2
    exit 1
  fi
  echo "$log" | tail -n 1
}
# kernels NAME EXPECTED: whether consumer NAME's binary holds the AVX-512 kernels, which only
# the native flags compile, must be EXPECTED (yes or no).
kernels() {
  local found=no symbols
  symbols=$(nm "$work/$1/.build/release/Consumer")
  grep -q microKernel6x32 <<<"$symbols" && found=yes
  if [ "$found" != "$2" ]; then
    echo "consumer check: the $1 build holds the AVX-512 kernels: $found, expected $2" >&2
    exit 1
  fi
  echo "consumer check: $1 build: AVX-512 kernels compiled in: $found"
}

echo "== version dependency"
consumer version ".package(url: \"file://$work/cnn\", from: \"0.1.0\")" Tests/Consumer/Model/main.swift
CNN_NATIVE= build version
kernels version no
data=${DATA_DIR:-$work/data}
out=$("$work/version/.build/release/Consumer" "$data" "$work/consumer.safetensors")
echo "$out" | tail -n 3
# cnn from the same dependency build, so that both sides run the same kernels.
build version --product cnn
evaluated=$("$work/version/.build/release/cnn" evaluate --data "$data" --limit 2000 --checkpoint "$work/consumer.safetensors")
echo "$evaluated" | head -n 2
trained=$( (grep -o 'consumer test_accuracy: [0-9.]*' <<<"$out" || true) | awk '{print $3}')
reported=$( (grep -o 'test_accuracy: [0-9.]*' <<<"$evaluated" || true) | awk '{print $2}')
if [ -z "$trained" ] || [ "$trained" != "$reported" ]; then
  echo "consumer check: the model's accuracy in Swift ($trained) and from cnn evaluate ($reported) differ" >&2
  exit 1
fi
echo "consumer check: cnn evaluate rebuilt the consumer's model: test accuracy $reported in both"

echo "== branch dependency (CNN_NATIVE=1)"
consumer branch ".package(url: \"file://$work/cnn\", branch: \"$branch\")" Tests/Consumer/Model/main.swift
CNN_NATIVE=1 build branch
kernels branch yes

echo "== path dependency"
consumer path ".package(path: \"$work/cnn\")" Tests/Consumer/Model/main.swift
build path
kernels path yes

echo "== kernels are not public"
cp Tests/Consumer/Misuse/main.swift "$work/path/Sources/Consumer/main.swift"
if errors=$(swift build -c release --package-path "$work/path" 2>&1); then
  echo "consumer check: a consumer calling gemm and Threads compiled" >&2
  exit 1
fi
for symbol in gemm Threads; do
  grep -q "cannot find '$symbol' in scope" <<<"$errors" || {
    echo "consumer check: no \"cannot find '$symbol' in scope\" error:" >&2
    echo "$errors" | tail -n 20 >&2
    exit 1
  }
done
echo "consumer check: gemm and Threads are out of reach, as intended"
