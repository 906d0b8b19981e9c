#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset "fuzz") and runs each for SECONDS (default 30)
# from its seed corpus in tests/fuzz/corpus/<name>. New inputs go to a temp dir, not the repo.
#   scripts/fuzz.sh [SECONDS] [target...]      e.g. scripts/fuzz.sh 600 fuzz_token
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_request fuzz_token fuzz_event)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
  corpus=${target#fuzz_}
  mkdir -p "$work/$corpus"
  echo "== $target for ${seconds}s"
  ASAN_OPTIONS=detect_leaks=0 "build/fuzz/tests/fuzz/$target" -max_total_time="$seconds" -max_len=8192 \
    -timeout=10 -print_final_stats=1 "$work/$corpus" "tests/fuzz/corpus/$corpus" 2>&1 | tail -n 12
done
echo "fuzzing: ${#targets[@]} targets ran ${seconds}s each without a crash"
