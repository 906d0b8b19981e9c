#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS from its seed corpus in tests/fuzz/corpus/<name>; new
# inputs go to a temp dir, not the repository. Fails on a crash, a sanitizer report (leaks are not
# checked: the targets keep a process-wide world) or a timeout, by libFuzzer's exit code.
#   tests/fuzz/run.sh BINARY SECONDS        e.g. tests/fuzz/run.sh build/asan/tests/fuzz/fuzz_token 15
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:?usage: $0 BINARY SECONDS}
seconds=${2:?usage: $0 BINARY SECONDS}
corpus=$(basename "$binary")
corpus=${corpus#fuzz_}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== $(basename "$binary") for ${seconds}s"
set -o pipefail
ASAN_OPTIONS=detect_leaks=0 "$binary" -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1 \
  "$work" "$here/corpus/$corpus" 2>&1 | tail -n 12
