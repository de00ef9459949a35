#!/usr/bin/env bash
# Trains the seed model with each pooling and several seeds, then prints a table of test
# accuracy and speed. Run with --help for usage.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'USAGE'
usage: Scripts/pooling-experiment.sh [options]

Trains the tutorials' seed model (cnn train: batch 32, Adam 0.001) once per pooling and seed,
then prints a Markdown table: each pooling's final test accuracy per seed, their mean and
spread (largest minus smallest), and the median training images/s over all its epochs.
Runs already finished are kept; an interrupted run continues from its checkpoint
(cnn train --resume), so the script can be stopped and started again.

options:
  --poolings LIST   comma-separated (default max,average,min,mixed,lp,avgtopk)
  --seeds LIST      comma-separated (default 0,1,2)
  --epochs N        epochs per run (default 10)
  --out DIR         checkpoints and metrics logs (default runs/pooling)
  --data DIR        cifar-10-batches-bin (default: cnn train's default)
  --help            this text

Avg-TopK uses k = 2 and Lp p = 2 (cnn train's defaults). Build first: swift build -c release.

Exit status: 0 done, 1 a run failed, 2 bad command line.
USAGE
}

die() { echo "error: $1; see Scripts/pooling-experiment.sh --help" >&2; exit 2; }

poolings=max,average,min,mixed,lp,avgtopk
seeds=0,1,2
epochs=10
out=runs/pooling
data=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --poolings | --seeds | --epochs | --out | --data)
      [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"
      case "$1" in
        --poolings) poolings=$2 ;;
        --seeds) seeds=$2 ;;
        --epochs) epochs=$2 ;;
        --out) out=$2 ;;
        --data) data=(--data "$2") ;;
      esac
      shift 2 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ "$epochs" =~ ^[1-9][0-9]*$ ]] || die "--epochs must be a whole number above 0, got '$epochs'"
[[ "$seeds" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--seeds must be whole numbers separated by commas, got '$seeds'"
for p in ${poolings//,/ }; do
  case "$p" in max | average | min | mixed | lp | avgtopk) ;; *) die "unknown pooling '$p'" ;; esac
done
cnn=.build/release/cnn
[ -x "$cnn" ] || { echo "error: $cnn is not built: run swift build -c release" >&2; exit 1; }
mkdir -p "$out"

# Metrics lines of a run: "accuracy images_per_second", one per epoch.
epochs_of() {
  [ -f "$1" ] || return 0
  awk -F'"test_accuracy":|"images_per_second":' 'NF == 3 { split($2, a, ","); split($3, b, ","); print b[1], a[1] }' "$1"
}

for p in ${poolings//,/ }; do
  for s in ${seeds//,/ }; do
    ck="$out/$p-seed$s.safetensors"
    done_epochs=$(epochs_of "$out/$p-seed$s.metrics.jsonl" | wc -l)
    if [ "$done_epochs" -ge "$epochs" ]; then echo "== $p, seed $s: done"; continue; fi
    resume=()
    [ -f "$ck" ] && resume=(--resume)
    echo "== $p, seed $s"
    "$cnn" train "${data[@]}" --pooling "$p" --seed "$s" --epochs "$epochs" --checkpoint "$ck" "${resume[@]}" |
      grep -E '^(epoch|Training|Resuming|Test)' || { echo "error: the run $p, seed $s failed" >&2; exit 1; }
  done
done

echo
echo "| pooling | test accuracy per seed ($seeds) | mean | spread (points) | images/s (median) |"
echo "| --- | --- | --- | --- | --- |"
for p in ${poolings//,/ }; do
  accs=()
  speeds=()
  for s in ${seeds//,/ }; do
    accs+=("$(epochs_of "$out/$p-seed$s.metrics.jsonl" | tail -1 | awk '{ print $1 }')")
    while read -r _ speed; do speeds+=("$speed"); done < <(epochs_of "$out/$p-seed$s.metrics.jsonl")
  done
  printf '%s\n' "${accs[@]}" | awk -v p="$p" -v speeds="${speeds[*]}" '
    { a[NR] = $1 * 100; sum += a[NR]; if (NR == 1 || a[NR] < lo) lo = a[NR]; if (NR == 1 || a[NR] > hi) hi = a[NR] }
    END {
      n = split(speeds, v, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      line = ""; for (i = 1; i <= NR; i++) line = line (i > 1 ? ", " : "") sprintf("%.2f%%", a[i])
      printf "| %s | %s | %.2f%% | %.2f | %.0f |\n", p, line, sum / NR, hi - lo, med
    }'
done
