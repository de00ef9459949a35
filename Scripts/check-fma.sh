#!/usr/bin/env bash
# Fails when the release build's GEMM micro-kernel lost its AVX2 FMA code path. Without
# `-target-cpu haswell` (Package.swift) Swift emits SSE only and calls fmaf per lane: the
# build still works, about 100x slower. This guard makes that loss a CI failure.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product cnn >/dev/null
bin=.build/release/cnn
symbol=$(nm "$bin" | grep -E 'microKernel6x16' | awk '{print $3}' | head -1)
[ -n "$symbol" ] || { echo "FMA guard: no micro-kernel symbol in $bin" >&2; exit 1; }
body=$(objdump -d --no-show-raw-insn "$bin" --disassemble="$symbol")
fma=$(grep -cE 'vfmadd[0-9]+ps\s+.*%ymm' <<<"$body" || true)
calls=$(grep -cE 'call.*fmaf' <<<"$body" || true)
echo "FMA guard: $symbol has $fma ymm FMA instructions and $calls calls to fmaf"
if [ "$fma" -lt 12 ] || [ "$calls" -gt 0 ]; then
  echo "FMA guard: the GEMM micro-kernel is not using AVX2 FMA; check the -target-cpu flags in Package.swift" >&2
  exit 1
fi
