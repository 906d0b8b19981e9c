#!/usr/bin/env bash
# Benchmark: what serialises the process. For each handler-thread count (--worker-threads), a
# fresh deliveryhub on a fresh SQLite database, then GET /api/v1/orders/{id} (64 connections)
# and POST /api/v1/orders (32 connections) with wrk, reading before and after each run the
# named locks' waits (deliveryhub_lock_contended_total, deliveryhub_lock_wait_seconds_total)
# and the process's CPU time. Reports throughput, p99, CPU used, and per lock: waits per 1,000
# requests and the share of the run's thread-time spent waiting (wait seconds ÷ duration ÷
# handler threads). See bench/README.md.
#
# Usage: bash bench/locks.sh [path/to/deliveryhub]
# Environment (defaults): WORKER_THREADS="1 2 4 8 16" DURATION=10 THREADS=2 CUSTOMERS=16
#   GET_CONNECTIONS=64 POST_CONNECTIONS=32, and SERVER_ARGS, RESULTS, KEEP_TMP as for every bench.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset DH_DATABASE  # SQLite: each thread count starts on a fresh database file
WORKER_THREADS=${WORKER_THREADS:-1 2 4 8 16}
bench_params DURATION=10 THREADS=2 CUSTOMERS=16 GET_CONNECTIONS=64 POST_CONNECTIONS=32 RUNS=1 CONNECTIONS=64
BENCH_PARAMS=("WORKER_THREADS=\"$WORKER_THREADS\"" "${BENCH_PARAMS[@]}")
read -r -a COUNTS <<<"$WORKER_THREADS"
(( ${#COUNTS[@]} >= 1 )) || die "WORKER_THREADS lists no thread count"
for n in "${COUNTS[@]}"; do [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 256 )) || die "bad thread count $n"; done
prepare_wrk_bench $(( 2 * ${#COUNTS[@]} * DURATION )) "$@"
BASE_ARGS=$SERVER_ARGS

# lock_snapshot: "NAME CONTENDED WAIT_SECONDS" lines from /metrics, sorted by name.
lock_snapshot() {
  "${CURL[@]}" --fail "$DH/metrics" | awk '
    /^deliveryhub_lock_contended_total\{/ { match($0, /lock="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7); c[n] = $NF }
    /^deliveryhub_lock_wait_seconds_total\{/ { match($0, /lock="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7); w[n] = $NF }
    END { for (n in c) printf "%s %d %.6f\n", n, c[n], w[n] }' | sort
}
cpu_us() {
  local hz ticks
  hz=$(getconf CLK_TCK)
  ticks=$(sed 's/.*) //' "/proc/$DH_PID/stat" | awk '{ print $12 + $13 }')
  echo $(( ticks * 1000000 / hz ))
}

declare -a ROWS LOCK_ROWS
for n in "${COUNTS[@]}"; do
  SERVER_ARGS="$BASE_ARGS --worker-threads $n"
  start_deliveryhub
  CUSTOMERS_FILE=$TMP/customers.txt
  BODY_FILE=$TMP/body.json
  setup_order_shop "$CUSTOMERS" "$CUSTOMERS_FILE" "$BODY_FILE"
  for scenario in get post; do
    if [[ $scenario == get ]]; then
      RESOURCE=/api/v1/orders/$ORDER_ID; CONNECTIONS=$GET_CONNECTIONS
      WRK_SCRIPT=$TMP/auth.lua; WRK_SCRIPT_ARGS=(); DH_OK_STATUS=200
      printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ACCESS_TOKEN" >"$WRK_SCRIPT"
    else
      RESOURCE=/api/v1/orders; CONNECTIONS=$POST_CONNECTIONS
      WRK_SCRIPT=$BENCH_DIR/orders_post.lua; WRK_SCRIPT_ARGS=( "$CUSTOMERS_FILE" "$SKU" ); DH_OK_STATUS=201
    fi
    before=$(lock_snapshot); u0=$(cpu_us)
    sleep 1.2  # log lines reach the file within a second (ADR 0030): the earlier ones are in now
    drain_dh_log >/dev/null
    note "worker threads $n: $scenario (${DURATION}s)"
    out=$TMP/run-$n-$scenario.txt
    run_wrk "$DH" "$DURATION" "$out"
    u1=$(cpu_us); after=$(lock_snapshot)
    sleep 1.2
    # Request lines of this run other than the expected status, /metrics scrapes aside.
    refused=$(grep '"msg":"request"' "$DH_LOG" | grep -v '"path":"/metrics"' | grep -c '"status":503' || true)
    bad=$(grep '"msg":"request"' "$DH_LOG" | grep -v '"path":"/metrics"' | grep -v "\"status\":$DH_OK_STATUS" \
      | grep -vc '"status":503' || true)
    drain_dh_log >/dev/null
    read -r rps _ p99 reqs non2xx errs < <(parse_wrk "$out") || die "could not parse wrk output ($out)"
    (( bad == 0 && errs == 0 )) || WARNINGS+=("threads $n, $scenario: $bad request lines neither $DH_OK_STATUS nor 503, $errs socket errors")
    ok_per_s=$(awk -v r="$reqs" -v x="$non2xx" -v d="$DURATION" 'BEGIN { printf "%.0f", (r - x) / d }')
    cpus=$(awk -v u=$((u1 - u0)) -v d="$DURATION" 'BEGIN { printf "%.2f", u / 1e6 / d }')
    ROWS+=("| $n | $scenario | $rps | $ok_per_s | $refused | $p99 | $reqs | $cpus |")
    while read -r name c1 w1; do
      read -r c0 w0 < <(awk -v n="$name" '$1 == n { print $2, $3; found = 1 } END { if (!found) print 0, 0 }' <<<"$before")
      awk -v n="$name" -v t="$n" -v s="$scenario" -v c=$((c1 - c0)) -v w0="$w0" -v w1="$w1" -v r="$reqs" -v d="$DURATION" 'BEGIN {
        if (c == 0) exit
        printf "| %s | %s | %s | %d | %.2f | %.1f | %.2f%% |\n", t, s, n, c, (r > 0 ? 1000 * c / r : 0), 1000 * (w1 - w0), 100 * (w1 - w0) / d / t }'
    done <<<"$after" >>"$TMP/locks.md"
  done
  stop_deliveryhub
  rm -f "$TMP"/db.sqlite*  # the next count starts on a fresh database
done
mapfile -t LOCK_ROWS <"$TMP/locks.md" 2>/dev/null || true

report=$TMP/report.md
{
  LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
  report_head "lock waits by handler threads: GET and POST /api/v1/orders"
  echo "- Tools: $WRK_VERSION"
  echo "- Command: \`$(script_cmd)\`"
  echo "- Server: \`$(display_dh_cmd | sed 's/--worker-threads [0-9]*/--worker-threads N/')\`, a fresh one (and SQLite database in \$TMP) per thread count; $CUSTOMERS customers, one confirmed order read by GET"
  echo "- wrk: \`wrk -t$THREADS -c$GET_CONNECTIONS -d${DURATION}s\` GET of that order with its owner's token, then \`-c$POST_CONNECTIONS\` POST with bench/orders_post.lua"
  echo
  echo "| handler threads | scenario | req/s | 2xx/s | 503 (back-pressure) | p99 ms | requests | CPUs used |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Locks that were found held (none listed: no waits). Thread-time waiting = wait ÷ run time ÷ handler threads (the saga's and relay's threads wait on the SQLite locks too, so on POST it can pass 100 %)."
  echo
  echo "| handler threads | scenario | lock | waits | per 1,000 requests | wait ms | thread-time waiting |"
  echo "|---:|---|---|---:|---:|---:|---:|"
  (( ${#LOCK_ROWS[@]} == 0 )) || printf '%s\n' "${LOCK_ROWS[@]}"
} >"$report"
publish_report "$report"
