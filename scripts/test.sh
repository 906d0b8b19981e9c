#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs packages, builds with
# AddressSanitizer + UBSan, runs the fuzzers briefly (clang/libFuzzer), then every ctest suite:
# unit, architecture, integration (the real binary over HTTP) and the OpenAPI lint.
#
# scripts/test.sh --quick: the inner loop, for a machine that has run the full one once (packages
# installed, build/asan configured): an incremental build, the unit and architecture tests that
# need no PostgreSQL, then the black-box suite once (one process, SQLite). PRESET picks another
# configure preset (dev: faster, no sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --quick ]]; then
  preset=${PRESET:-asan}
  [[ -f build/$preset/CMakeCache.txt ]] || cmake --preset "$preset"
  cmake --build --preset "$preset"
  ctest --preset "$preset" -L '^(unit|arch)$' -LE '^shape[.]'
  exec ctest --preset "$preset" -R '^integration$'
fi
scripts/install-deps.sh all
cmake --preset asan
cmake --build --preset asan
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
ctest --preset asan
