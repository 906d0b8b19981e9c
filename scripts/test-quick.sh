#!/usr/bin/env bash
# The inner loop (`scripts/test.sh --quick`), for a machine that has run the full suite once
# (packages installed, build/asan configured): an incremental build, the unit, architecture and scenario
# tests that need no PostgreSQL, then the black-box suite once (one process, SQLite). PRESET picks
# another configure preset (dev: faster, no sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${PRESET:-asan}
[[ -f build/$preset/CMakeCache.txt ]] || cmake --preset "$preset"
cmake --build --preset "$preset"
ctest --preset "$preset" -L '^(unit|arch|scenario)$' -LE '^shape[.]'
exec ctest --preset "$preset" -R '^integration$'
