#!/usr/bin/env bash
# Fails when a release-build GEMM micro-kernel lost its FMA code path: the AVX2 kernel needs
# `-target-cpu haswell`, the AVX-512 one `-target-cpu skylake-avx512` (Package.swift).
# Without them Swift emits SSE only and calls fmaf per lane: the build still works, about
# 100x slower. This guard makes that loss a CI failure.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") ;;
  -h | --help)
    cat <<'USAGE'
usage: Scripts/check-fma.sh

Builds cnn in the release configuration, disassembles its GEMM micro-kernels and fails
unless each holds SIMD FMA instructions (ymm for AVX2, zmm for AVX-512) and no call to fmaf,
and unless the 6x64 kernel and the packing of B hold their prefetch instructions. Needs nm
and objdump (binutils). CI runs it.

Exit status: 0 the code paths are there, 1 one is missing, 2 bad command line.
USAGE
    exit 0 ;;
  *) echo "error: unknown argument '$1'; see Scripts/check-fma.sh --help" >&2; exit 2 ;;
esac
swift build -c release --product cnn >/dev/null
bin=.build/release/cnn
# disassemble PATTERN: the instructions of the first symbol matching PATTERN.
disassemble() {
  local symbol
  symbol=$(nm "$bin" | grep -E "$1" | awk '{print $3}' | head -1)
  [ -n "$symbol" ] || { echo "FMA guard: no $1 symbol in $bin" >&2; exit 1; }
  objdump -d --no-show-raw-insn "$bin" --disassemble="$symbol"
}
# check KERNEL REGISTER: the kernel's symbol must hold at least 12 FMAs on REGISTER (ymm or
# zmm) and no call to fmaf.
check() {
  local body fma calls
  body=$(disassemble "$1")
  fma=$(grep -cE "vfmadd[0-9]+ps\s+.*%$2" <<<"$body" || true)
  calls=$(grep -cE 'call.*fmaf' <<<"$body" || true)
  echo "FMA guard: $1 has $fma $2 FMA instructions and $calls calls to fmaf"
  if [ "$fma" -lt 12 ] || [ "$calls" -gt 0 ]; then
    echo "FMA guard: $1 lost its $2 FMA code path; check the -target-cpu flags in Package.swift" >&2
    exit 1
  fi
}
check microKernel6x16 ymm
check microKernel6x32 zmm
check microKernel12x32 zmm
check microKernel6x64 zmm
# The 6x64 kernel and the packing of B prefetch through an LLVM intrinsic bound by name
# (TensorsAVX512/Prefetch.swift); a toolchain that stopped honouring that binding would leave
# a call or nothing.
check_prefetch() {
  local body prefetches
  body=$(disassemble "$1")
  prefetches=$(grep -cE 'prefetch(t0|w)' <<<"$body" || true)
  echo "FMA guard: $2 has $prefetches prefetch instructions"
  if [ "$prefetches" -lt 2 ]; then
    echo "FMA guard: $2 lost its prefetch instructions" >&2
    exit 1
  fi
}
check_prefetch microKernel6x64 microKernel6x64
check_prefetch 'GEMMBlocks.*packBlock' "GEMM's packBlock"
