#!/usr/bin/env bash
# Long fuzzing: builds the libFuzzer targets with clang (preset "fuzz": -O1, full coverage and
# comparison tracing) and runs each for SECONDS (default 30) from its seed corpus
# (tests/fuzz/run.sh). CI's short run is the ctest `fuzz.*` tests on the asan build.
#   scripts/fuzz.sh [SECONDS] [target...]      e.g. scripts/fuzz.sh 600 fuzz_token
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_request fuzz_token fuzz_event)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]}"
for target in "${targets[@]}"; do
  tests/fuzz/run.sh "build/fuzz/tests/fuzz/$target" "$seconds"
done
echo "fuzzing: ${#targets[@]} targets ran ${seconds}s each without a crash"
