#!/usr/bin/env bash
# Runs the test suite with a user's files in place and checks it left them alone. See --help.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: Scripts/check-files-left-alone.sh [-- COMMAND ...]

Runs COMMAND (default: swift test -c release, the README's test command) from the package
folder as a user who has followed the README would: with a trained checkpoint and its metrics
log in runs/ and CIFAR-10 in Datasets/cifar-10-batches-bin. Afterwards the checkpoint, the log
and the data must be byte-identical, and `git status --ignored` must show nothing new but
.build/: the tests write only in temporary folders of their own.

What is missing is put there first and removed at the end: a sentinel checkpoint and log
(random bytes), and CIFAR-10 from $CIFAR10_ARCHIVE or ../shared/datasets/cifar-10-binary.tar.gz
(without either, the data part is skipped, and said so). What a user already has is used as it
is and never touched.

Exit status: 0 the command passed and left everything alone, 1 it failed or changed a file,
2 bad command line.
USAGE
}

cd "$(dirname "$0")/.."
command=(swift test -c release)
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --) shift; [ $# -gt 0 ] && command=("$@") ;;
  "") ;;
  *) echo "error: unknown argument '$1'; see Scripts/check-files-left-alone.sh --help" >&2; exit 2 ;;
esac

created=()
cleanup() { for path in "${created[@]}"; do rm -rf "$path"; done; }
trap cleanup EXIT

if [ ! -e runs/model.safetensors ] && [ ! -e runs/model.metrics.jsonl ]; then
  [ -d runs ] || created+=(runs)
  mkdir -p runs
  head -c 65536 /dev/urandom > runs/model.safetensors
  echo '{"epoch": 1, "sentinel": true}' > runs/model.metrics.jsonl
  created+=(runs/model.safetensors runs/model.metrics.jsonl)
fi
archive="${CIFAR10_ARCHIVE:-../shared/datasets/cifar-10-binary.tar.gz}"
if [ ! -e Datasets/cifar-10-batches-bin ]; then
  if [ -f "$archive" ]; then
    created+=(Datasets/cifar-10-batches-bin)
    Scripts/get-cifar10.sh --archive "$archive" >/dev/null
  else
    echo "note: no CIFAR-10 in Datasets/ and no archive at $archive: checking runs/ only"
  fi
fi

# What the user's files are, and what git sees, before the command.
fingerprint() {
  find runs Datasets -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
  git status --ignored --porcelain --untracked-files=all | grep -v '^!! \.build/' || true
}
before="$(fingerprint)"
status=0
"${command[@]}" || status=$?
after="$(fingerprint)"

if [ "$before" != "$after" ]; then
  echo "error: the command changed files outside its temporary folders:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "files left alone: runs/, Datasets/ and git status --ignored unchanged"
[ "$status" -eq 0 ] || { echo "error: '${command[*]}' failed (exit status $status)" >&2; exit 1; }
