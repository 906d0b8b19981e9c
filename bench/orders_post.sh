#!/usr/bin/env bash
# Benchmark: POST /api/v1/orders sustained with wrk on 127.0.0.1, spread over several customers,
# and whether the order saga keeps up (orders confirmed during the run and SETTLE s after it,
# the pending + payment_authorized backlog), read from GET /metrics. Next to it, in the same run,
# nginx answers the same POST with a fixed 201 body of the same size (the machine's ceiling for
# this request shape), alternating the two targets. See bench/README.md.
#
# Usage: bash bench/orders_post.sh [path/to/deliveryhub]
# Environment (defaults): RUNS=3 DURATION=30 (seconds per wrk run) CONNECTIONS=32 THREADS=2
#   WARMUP=2 (seconds of unrecorded wrk per target before run 1; 0 disables)
#   CUSTOMERS=16 (customers the orders are spread over, each its own token and address)
#   SETTLE=5 (seconds after each deliveryhub run before the saga is read again)
#   DRAIN=60 (at most this many seconds of waiting for the saga backlog to reach 0 before a run)
#   and SERVER_ARGS, RESULTS ("-" = do not append), KEEP_TMP, as for every bench/*.sh (README)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_params RUNS=3 DURATION=30 CONNECTIONS=32 THREADS=2 WARMUP=2 CUSTOMERS=16 SETTLE=5 DRAIN=60
(( CUSTOMERS >= 1 && CUSTOMERS <= 1000 )) || die "CUSTOMERS must be 1 to 1000"
(( SETTLE >= 1 && SETTLE <= 600 && DRAIN <= 3600 )) || die "SETTLE must be 1 to 600, DRAIN at most 3600"
# checks, the binary, temp dir and traps, machine facts, deliveryhub started, GET /version
begin_wrk_bench $(( 2 * (RUNS * DURATION + WARMUP) + RUNS * (SETTLE + DRAIN) + DRAIN )) "$@"

# --- zone, product, courier; CUSTOMERS customers with an address each ------------------------
# and one order placed with curl: its 201 body is the size of nginx's answer, and the saga is
# seen to confirm it before anything is measured.
CUSTOMERS_FILE=$TMP/customers.txt   # "ACCESS_TOKEN ADDRESS_ID", one customer a line
BODY_FILE=$TMP/body.json
setup_order_shop "$CUSTOMERS" "$CUSTOMERS_FILE" "$BODY_FILE"

# --- nginx: the same POST answered with `return 201 '<body of the same size>'` ----------------
RESOURCE=/api/v1/orders
prepare_nginx
NG_LOCATION=$(return_location "$RESOURCE" 201 "$BODY_FILE")
NG_REQUEST=( -X POST -H 'Content-Type: application/json' --data "$(order_json "$ADDRESS_ID")" )
launch_nginx 201

WRK_SCRIPT=$BENCH_DIR/orders_post.lua
WRK_SCRIPT_ARGS=( "$CUSTOMERS_FILE" "$SKU" )
DH_OK_STATUS=201

# --- warm-up and runs ---------------------------------------------------------------------------
warm_up

declare -a NG_APS NG_P50 NG_P99 DH_APS DH_P50 DH_P99 SAGA_PCT ROWS SAGA_ROWS COST_ROWS
DB_FILE=""
[[ -n ${DH_DATABASE:-} ]] || DB_FILE=$TMP/db.sqlite
BAD_RUNS=0
UNDRAINED=0
for i in $(seq 1 "$RUNS"); do
  # The backlog of the warm-up or of the previous run must not compete with this pair of runs.
  wait_drained "$DH"
  if (( LEFT > 0 )); then UNDRAINED=$((UNDRAINED + 1)); fi
  for target in nginx deliveryhub; do
    out=$TMP/run$i-$target.txt
    if [[ $target == nginx ]]; then
      note "run $i/$RUNS: nginx (${DURATION}s)"
      run_wrk "$NGX" "$DURATION" "$out"
    else
      read -r c0 o0 b0 < <(saga_metrics "$DH")
      read -r k0 w0 s0 f0 u0 d0 < <(cost_snapshot "$DH" "$DH_PID" "$DB_FILE")
      drain_dh_log >/dev/null   # the GET /metrics lines: the access log counts the run only
      note "run $i/$RUNS: deliveryhub (${DURATION}s, backlog before $b0)"
      run_wrk "$DH" "$DURATION" "$out"
      read -r logged bad < <(drain_dh_log)
      read -r c1 _ b1 < <(saga_metrics "$DH")
      e1=$(outbox_backlog "$DH")
      sleep "$SETTLE"
      read -r c2 o2 b2 < <(saga_metrics "$DH")
      read -r k2 w2 s2 f2 u2 d2 < <(cost_snapshot "$DH" "$DH_PID" "$DB_FILE")
      e2=$(outbox_backlog "$DH")
    fi
    read -r rps p50 p99 reqs non2xx errs < <(parse_wrk "$out") || { cat "$out" >&2; die "could not parse wrk output ($out)"; }
    read -r ok other us < <(parse_statuses "$out") || { cat "$out" >&2; die "no status counts in wrk output ($out)"; }
    aps=$(per_second "$ok" "$us")
    server="—"
    if [[ $target == deliveryhub ]]; then
      kill -0 "$DH_PID" 2>/dev/null || die "deliveryhub died during run $i"
      server="$logged logged, $bad non-201"
      DH_APS+=("$aps"); DH_P50+=("$p50"); DH_P99+=("$p99")
      if (( bad > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
      pct=$(saga_pct "$(( c2 - c0 ))" "$ok")
      [[ $pct == n/a ]] || SAGA_PCT+=("$pct")
      SAGA_ROWS+=("| $i | $b0 | $ok | $(( c1 - c0 )) | $(( c2 - c0 )) | $pct% | $(( o2 - o0 )) | $b1 | $b2 | $e1 | $e2 |")
      settled=$(( c2 - c0 + o2 - o0 ))
      COST_ROWS+=("$(awk -v i="$i" -v n="$settled" -v k=$(( k2 - k0 )) -v w=$(( w2 - w0 )) -v s=$(( s2 - s0 )) \
        -v f=$(( f2 - f0 )) -v u=$(( u2 - u0 )) -v d=$(( d2 - d0 )) -v db="$DB_FILE" 'BEGIN {
          if (n <= 0) { printf "| %d | 0 | n/a | n/a | n/a | n/a | n/a | n/a |", i; exit }
          printf "| %d | %d | %.2f | %.2f | %.1f | %.1f | %.0f | %s |", i, n, k / n, w / n, s / n, f / n, u / n,
            (db == "") ? "n/a" : sprintf("%.0f", d / n) }')")
    else
      NG_APS+=("$aps"); NG_P50+=("$p50"); NG_P99+=("$p99")
    fi
    if (( other > 0 || errs > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
    ROWS+=("| $i | $target | $aps | $rps | $p50 | $p99 | $reqs | $ok | $other | $errs | $server |")
  done
done

MED_NG_APS=$(median %.0f "${NG_APS[@]}"); MED_NG_P50=$(median %.3f "${NG_P50[@]}"); MED_NG_P99=$(median %.3f "${NG_P99[@]}")
MED_DH_APS=$(median %.0f "${DH_APS[@]}"); MED_DH_P50=$(median %.3f "${DH_P50[@]}"); MED_DH_P99=$(median %.3f "${DH_P99[@]}")
ratio "$MED_DH_APS" "$MED_NG_APS"
if (( ${#SAGA_PCT[@]} > 0 )); then
  MED_SAGA=$(median %.1f "${SAGA_PCT[@]}")
  SAGA_VERDICT=$(awk -v p="$MED_SAGA" 'BEGIN { print (p >= 90) ? "met" : "NOT met" }')
else
  MED_SAGA=n/a SAGA_VERDICT="not measured (no order accepted)"
fi
if (( b2 == 0 )); then TREND="drained within ${SETTLE} s"
elif (( b2 < b1 )); then TREND="shrinking, not drained within ${SETTLE} s"
else TREND="NOT shrinking: the saga does not keep up"
fi
(( BAD_RUNS == 0 )) || WARNINGS+=("$BAD_RUNS run(s) had non-201 responses, socket errors or non-201 access-log lines: see the table")
(( UNDRAINED == 0 )) || WARNINGS+=("before $UNDRAINED run(s) the saga backlog had not reached 0 within DRAIN=${DRAIN}s: those runs' confirmations include older orders")

# --- report -------------------------------------------------------------------------------------
finish_servers
REPORT=$TMP/report.md
{
  report_head "POST /api/v1/orders and the saga"
  report_wrk_setup
  echo "- Requests: POST /api/v1/orders with one item (\`$SKU\`, quantity 1) and payment_method tok_visa, spread in turn over $CUSTOMERS customers (each its own bearer token and address in the zone; each wrk thread starts at another customer); the same requests to both targets; status codes counted by the Lua script; accepted/s = 201 responses ÷ wrk's run time"
  echo "- Ceiling: nginx cannot POST to a static file (405), so it answers the POST with \`return 201 '<body>'\` (a \`location = $RESOURCE\`, default_type application/json): a fixed body of $BODY_BYTES bytes, the size of deliveryhub's 201 body for such an order, without its ETag and Location headers; it reads and discards the request body and does no work per order"
  echo "- Saga: GET /metrics before each deliveryhub run, at its end and ${SETTLE} s later: \`deliveryhub_saga_outcomes_total{outcome=\"confirmed\"}\` (counter) and the gauge \`deliveryhub_orders{status=…}\`; backlog = pending + payment_authorized; outbox backlog = events not yet relayed to their consumers (\`deliveryhub_outbox_backlog\`, all modules). Before each pair of runs the script waits (at most ${DRAIN} s) for the backlog to reach 0"
  echo "- Set-up: one zone (postal prefix 28), one product (1250 EUR), one courier of capacity $COURIER_CAPACITY (the API's maximum: later deliveries stay unassigned, which does not hold back the confirmation); database: ${DB_LABEL:-SQLite (a file in \$TMP)}; runs alternate nginx → deliveryhub; warm-up ${WARMUP}s per target not recorded (its orders are drained before run 1)"
  [[ -z ${DB_CEILING:-} ]] || echo "- Database ceiling, same server, same sitting: $DB_CEILING"
  echo "- deliveryhub $DH_STOP; warning/error log lines after start-up: $OTHER_LINES"
  echo
  echo "| run | target | accepted/s | req/s | p50 ms | p99 ms | requests | 201 | non-201 | socket errors | server log |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "| run | backlog before | accepted (201) | confirmed during run | confirmed by +${SETTLE} s | confirmed / accepted | other saga outcomes | backlog at end | backlog +${SETTLE} s | outbox backlog at end | outbox backlog +${SETTLE} s |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${SAGA_ROWS[@]}"
  echo
  echo "Cost per settled order (confirmed or rejected), from the start of each deliveryhub run to ${SETTLE} s after it: the counters \`deliveryhub_db_{commits,writes,statements,wal_frames}_total\` (a commit is one durable transaction, a group commit counting once; a write is one unit of work submitted; statements include BEGIN/COMMIT/SAVEPOINT), the process's CPU time (utime + stime from /proc), and the growth of the SQLite file with its WAL. Placement, saga and relay of the window's orders are all in it; 0 where the binary predates the counters."
  echo
  echo "| run | settled | commits | writes | statements | WAL frames | CPU µs | DB bytes |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${COST_ROWS[@]}"
  echo
  echo "| median of $RUNS | accepted/s | p50 ms | p99 ms |"
  echo "|---|---:|---:|---:|"
  echo "| nginx (ceiling) | $MED_NG_APS | $MED_NG_P50 | $MED_NG_P99 |"
  echo "| deliveryhub | $MED_DH_APS | $MED_DH_P50 | $MED_DH_P99 |"
  echo
  echo "**Ratio deliveryhub / nginx (median accepted/s): $RATIO ($RATIO_PCT of the ceiling)**"
  echo
  echo "**Saga: median confirmed within ${SETTLE} s after the run / accepted: $MED_SAGA% (target ≥ 90 %: $SAGA_VERDICT); backlog at the end of the last run $b1, ${SETTLE} s later $b2 ($TREND)**"
  echo
} >"$REPORT"
publish_report "$REPORT"
[[ $DH_EXIT == 0 ]] || exit 1
