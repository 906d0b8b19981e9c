#!/usr/bin/env bash
# Sets up (packages, optimised build) and starts deliveryhub on its embedded default:
# every module, SQLite at ./data/deliveryhub.db, the in-process bus, http://127.0.0.1:8080.
# Extra arguments go to `deliveryhub serve`, e.g. scripts/serve.sh --listen 127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release --target deliveryhub
exec build/release/src/app/deliveryhub serve "$@"
