#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs packages, builds with
# AddressSanitizer + UBSan, runs the fuzzers briefly (clang/libFuzzer), then every ctest suite:
# unit, architecture, integration (the real binary over HTTP) and the OpenAPI lint.
#
# scripts/test.sh --quick: the inner loop (scripts/test-quick.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${1:-} == --quick ]] && exec scripts/test-quick.sh
scripts/install-deps.sh all
cmake --preset asan
cmake --build --preset asan
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
ctest --preset asan
