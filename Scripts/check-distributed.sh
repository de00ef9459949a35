#!/usr/bin/env bash
# Trains on several processes under each MPI at hand and checks the bits. See --help.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: Scripts/check-distributed.sh [--keep DIR]

Trains one epoch of the seed model (2,000 images, batches of 128) and of fast93 (1,024
images, batches of 256) on one process with 2 threads, then on 2 and 4 processes with 1 thread each under every
MPI launcher found (Open MPI's mpirun.openmpi, MPICH's mpiexec.mpich; oversubscribed on a
small machine, allowed to run as root), and fails unless every checkpoint's tensors are
byte-identical to the single process's and every metrics log has its losses and accuracies
(training and test, which the processes share too). Then checks the refusals: 3 processes,
and a job whose processes were given different seeds or different data, each stopped with
one message.

CIFAR-10 comes from $CIFAR10_ARCHIVE or ../shared/datasets/cifar-10-binary.tar.gz, unpacked
in a temporary folder; without either the script says so and exits 0. Everything is written
in a temporary folder (kept in DIR with --keep).

Exit status: 0 passed (or nothing to check), 1 a check failed, 2 bad command line.
USAGE
}

keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --keep) keep="${2:?--keep needs a folder}"; shift 2 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
archive="${CIFAR10_ARCHIVE:-$root/../shared/datasets/cifar-10-binary.tar.gz}"
if [ ! -f "$archive" ]; then
  echo "no CIFAR-10 archive ($archive): nothing checked"
  exit 0
fi
launchers=()
command -v mpirun.openmpi >/dev/null 2>&1 && launchers+=(openmpi)
command -v mpiexec.mpich >/dev/null 2>&1 && launchers+=(mpich)
if [ ${#launchers[@]} -eq 0 ]; then
  echo "no MPI launcher (mpirun.openmpi, mpiexec.mpich) found: nothing checked"
  exit 0
fi

work="${keep:-$(mktemp -d)}"
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
data="$work/cifar-10-batches-bin"
(cd "$root" && swift build -c release --product cnn >/dev/null)
cnn="$root/.build/release/cnn"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# launch KIND N ARGS...: `cnn ARGS` on N processes of 1 thread under the launcher KIND.
launch() {
  local kind="$1" n="$2"
  shift 2
  case "$kind" in
    openmpi) mpirun.openmpi --oversubscribe -np "$n" "$cnn" "$@" --threads 1 ;;
    mpich) mpiexec.mpich -n "$n" "$cnn" "$@" --threads 1 ;;
  esac
}

# A metrics log without its timings: losses and accuracies, training and test, per epoch.
results() {
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    epoch = json.loads(line)
    print({k: v for k, v in sorted(epoch.items()) if "second" not in k})
PY
}

# The SHA-256 of a checkpoint's tensor bytes (after its header).
tensors() {
  python3 - "$1" <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
print(hashlib.sha256(b[8 + n:]).hexdigest())
PY
}

failed=0
check() {
  local name="$1" want="$2" got="$3"
  if [ "$want" = "$got" ]; then
    echo "ok   $name"
  else
    echo "FAIL $name: $got, expected $want"
    failed=1
  fi
}

models=("seed --limit 2000 --batch-size 128" "fast93 --limit 1024 --batch-size 256")
for m in "${models[@]}"; do
  read -r -a options <<<"$m --epochs 1 --test-limit 200 --data $data"
  name="${options[0]}"
  "$cnn" train --model "${options[@]}" --threads 2 --checkpoint "$work/$name-1.safetensors" \
    --metrics "$work/$name-1.jsonl" >"$work/$name-1.log" 2>&1
  want="$(tensors "$work/$name-1.safetensors")"
  echo "     $name, 1 process x 2 threads: $want"
  for kind in "${launchers[@]}"; do
    for n in 2 4; do
      run="$name-$kind-$n"
      launch "$kind" "$n" train --model "${options[@]}" --checkpoint "$work/$run.safetensors" \
        --metrics "$work/$run.jsonl" >"$work/$run.log" 2>&1 || { echo "FAIL $run: exit $?"; failed=1; continue; }
      check "$name, $kind, $n processes x 1 thread" "$want" "$(tensors "$work/$run.safetensors")"
      check "$name, $kind, $n processes: the log's losses and accuracies" "$(results "$work/$name-1.jsonl")" \
        "$(results "$work/$run.jsonl")"
    done
  done
done

# refused KIND NAME PATTERN COMMAND...: the job must fail, and say PATTERN once.
refused() {
  local kind="$1" name="$2" pattern="$3"
  shift 3
  local status=0
  "$@" >"$work/refusal.log" 2>&1 || status=$?
  local said
  said="$(grep -c -- "$pattern" "$work/refusal.log" || true)"
  if [ "$status" -ne 0 ] && [ "$said" -eq 1 ]; then
    echo "ok   $kind refuses $name (exit $status)"
  else
    echo "FAIL $kind, $name: exit $status, the message $said times"
    sed 's/^/     /' "$work/refusal.log"
    failed=1
  fi
}

mkdir -p "$work/other"
cp "$data"/*.bin "$data"/*.txt "$work/other/"
# One changed pixel of the first training image.
printf '\x01' | dd of="$work/other/data_batch_1.bin" bs=1 seek=100 conv=notrunc status=none
common=(train --model seed --epochs 1 --limit 256 --batch-size 128 --test-limit 100)
for kind in "${launchers[@]}"; do
  out="$work/refused-$kind"
  refused "$kind" "3 processes" "training on 3 processes" launch "$kind" 3 "${common[@]}" --data "$data" \
    --checkpoint "$out.safetensors" --metrics "$out.jsonl"
  case "$kind" in
    openmpi) mpmd=(mpirun.openmpi --oversubscribe -np 1) second=(-np 1) ;;
    mpich) mpmd=(mpiexec.mpich -n 1) second=(-n 1) ;;
  esac
  refused "$kind" "another seed" "its seed differs" "${mpmd[@]}" "$cnn" "${common[@]}" --data "$data" \
    --checkpoint "$out.safetensors" --metrics "$out.jsonl" : "${second[@]}" "$cnn" "${common[@]}" --data "$data" \
    --seed 1 --checkpoint "$out.safetensors" --metrics "$out.jsonl"
  refused "$kind" "other data" "its training data differ" "${mpmd[@]}" "$cnn" "${common[@]}" --data "$data" \
    --checkpoint "$out.safetensors" --metrics "$out.jsonl" : "${second[@]}" "$cnn" "${common[@]}" \
    --data "$work/other" --checkpoint "$out.safetensors" --metrics "$out.jsonl"
done
exit "$failed"
