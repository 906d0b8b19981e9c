#!/usr/bin/env bash
# Benchmark: authenticated GET /api/v1/customers/{id} on deliveryhub, measured with wrk on
# 127.0.0.1, next to nginx serving a static file with the same body (the machine's ceiling),
# alternating the two targets in the same run. See bench/README.md.
#
# Usage: bash bench/customers_get.sh [path/to/deliveryhub]
# Environment (defaults): RUNS=5 DURATION=10 (seconds per wrk run) CONNECTIONS=32 THREADS=2
#   WARMUP=2 (seconds of unrecorded wrk per target before run 1; 0 disables)
#   SERVER_ARGS="" (extra options for deliveryhub, e.g. "--io-threads 2")
#   RESULTS=bench/RESULTS.md (where the dated section is appended; "-" = do not append)
#   KEEP_TMP=0 (1 keeps the temp dir with the logs and raw wrk outputs)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_params RUNS=5 DURATION=10 CONNECTIONS=32 THREADS=2 WARMUP=2
# checks, the binary, temp dir and traps, machine facts, deliveryhub started, GET /version
begin_wrk_bench $(( 2 * (RUNS * DURATION + WARMUP) )) "$@"

# --- the customer and its record ------------------------------------------------------------
BENCH_EMAIL=bench@example.com
BENCH_PASSWORD=bench-password-123
register_customer "$BENCH_EMAIL" "$BENCH_PASSWORD" "Bench Customer"
ACCESS_TOKEN=$(login "$BENCH_EMAIL" "$BENCH_PASSWORD")

RESOURCE=/api/v1/customers/$CUSTOMER_ID
BODY_FILE=$TMP/body.json
fetch_body "$RESOURCE" "$ACCESS_TOKEN" "$BODY_FILE" 200

# --- nginx with a copy of the body, warm-up, RUNS × (nginx, deliveryhub), report ------------
run_get_ceiling
get_ceiling_report "GET /api/v1/customers/{id}" \
  "Same request line and Authorization header to both; response body $BODY_BYTES bytes from both (nginx serves a copy of the deliveryhub body); SQLite database; runs alternate nginx → deliveryhub; warm-up ${WARMUP}s per target not recorded"
