#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs packages, builds once with clang,
# AddressSanitizer + UBSan (the tests and the libFuzzer targets), then every ctest suite, several
# at a time: unit, architecture, the black-box suite (the real binary over HTTP) in each shape,
# the fuzzers briefly, deployment, documents and style (tests/README.md).
#
# scripts/test.sh --quick: the inner loop (scripts/test-quick.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${1:-} == --quick ]] && exec scripts/test-quick.sh
scripts/install-deps.sh all
cmake --preset asan
cmake --build --preset asan
ctest --preset asan
