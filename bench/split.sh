#!/usr/bin/env bash
# Benchmark: the scenarios of orders_get.sh and orders_post.sh — GET /api/v1/orders/{id} of a
# customer's own confirmed order, and POST /api/v1/orders sustained (201s per second, and whether
# the saga keeps up) — against three targets in the same run, alternating them: nginx (the
# machine's ceiling, as in those scripts), the single process (every module, in-process bus) and
# the split shape of scripts/split.sh (five processes, one module each, RabbitMQ, behind its nginx
# gateway). Both deliveryhub shapes use one throw-away PostgreSQL, a fresh database each; the
# split shape one throw-away RabbitMQ. Everything on 127.0.0.1. See bench/README.md.
#
# Usage: bash bench/split.sh [path/to/deliveryhub]
# Environment (defaults): RUNS=3 DURATION=10 (seconds per wrk run) GET_CONNECTIONS=64
#   POST_CONNECTIONS=32 (those of orders_get.sh and orders_post.sh) THREADS=2
#   WARMUP=2 (seconds of unrecorded wrk per target and scenario before run 1; 0: none)
#   CUSTOMERS=16 (customers the orders are spread over, each its own token and address; per shape)
#   SETTLE=5 (seconds after each deliveryhub POST run before the saga is read again)
#   DRAIN=60 (at most this many seconds of waiting for each shape's saga backlog to reach 0
#   before every POST run) and SERVER_ARGS (for every deliveryhub process of both shapes),
#   RESULTS ("-" = do not append), KEEP_TMP, as for every bench/*.sh (README)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_params RUNS=3 DURATION=10 GET_CONNECTIONS=64 POST_CONNECTIONS=32 THREADS=2 WARMUP=2 CUSTOMERS=16 SETTLE=5 DRAIN=60
(( CUSTOMERS >= 1 && CUSTOMERS <= 1000 )) || die "CUSTOMERS must be 1 to 1000"
(( SETTLE >= 1 && SETTLE <= 600 && DRAIN <= 3600 )) || die "SETTLE must be 1 to 600, DRAIN at most 3600"
# Seconds from the tokens' issue to the last run: 3 targets × 2 scenarios of wrk, and before
# every POST run the waits for both backlogs, after every deliveryhub POST run SETTLE.
PLANNED=$(( 6 * (RUNS * DURATION + WARMUP) + RUNS * (6 * DRAIN + 2 * SETTLE) ))
CONNECTIONS=$POST_CONNECTIONS
check_wrk_params "$PLANNED"
CONNECTIONS=$GET_CONNECTIONS
# checks, the binary, temp dir and traps, machine facts
prepare_wrk_bench "$PLANNED" "$@"
require_tools psql timeout

TARGETS=(ceiling single split)
MODULES=(customers payments delivery orders incidents)
SPLIT_RATE=1000000   # RATE and BURST of the gateway's limit_req: no throttling of the benchmark

# --- PostgreSQL, RabbitMQ, stopped on any exit ------------------------------------------------
PG_DIR="" RMQ_DIR="" SPLIT_PARENT="" SPLIT_DIR=""
bench_cleanup() {
  if [[ -n $SPLIT_DIR ]]; then
    if [[ $KEEP_TMP == 1 && -d $SPLIT_DIR ]]; then cp -r "$SPLIT_DIR" "$TMP/split-shape" 2>/dev/null || true; fi
    timeout 120 "$REPO_ROOT/scripts/split.sh" stop "$SPLIT_DIR" >/dev/null 2>&1 || note "scripts/split.sh stop failed"
  fi
  [[ -z $SPLIT_PARENT ]] || rm -rf "$SPLIT_PARENT"
  [[ -z $RMQ_DIR ]] || timeout 60 "$REPO_ROOT/scripts/local-rabbitmq.sh" stop "$RMQ_DIR" >/dev/null 2>&1 || true
  [[ -z $PG_DIR ]] || timeout 60 "$REPO_ROOT/scripts/local-postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
}

note "starting PostgreSQL (scripts/local-postgres.sh)"
# Outside $TMP: the postgres user must reach its data folder ($TMP is 0700).
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dh-bench-pg.XXXXXX")
chmod 755 "$PG_DIR"
PG_URL=$(timeout 120 "$REPO_ROOT/scripts/local-postgres.sh" start "$PG_DIR") || die "could not start PostgreSQL"
PG_BASE=${PG_URL%/postgres}
psql "$PG_URL" -qX -v ON_ERROR_STOP=1 -c 'CREATE DATABASE bench_single' -c 'CREATE DATABASE bench_split' >/dev/null ||
  die "could not create the databases"
PG_VERSION=$(psql "$PG_URL" -tAXc 'SHOW server_version')
note "starting RabbitMQ (scripts/local-rabbitmq.sh)"
RMQ_DIR=$TMP/rabbitmq
BUS_URL=$(timeout 150 "$REPO_ROOT/scripts/local-rabbitmq.sh" start "$RMQ_DIR") || die "could not start RabbitMQ"
RMQ_VERSION=$(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null || echo unknown)

# --- target "single": one process, every module, in-process bus -------------------------------
DH_DATABASE=$PG_BASE/bench_single
start_deliveryhub   # sets DH, DH_PID, BUILD_TYPE, GIT_COMMIT, …
SINGLE=$DH

# --- target "split": scripts/split.sh, five processes behind its gateway ----------------------
# In a folder the gateway's workers (nobody) may enter, unlike $TMP; split.sh wants DIR absent.
SPLIT_PARENT=$(mktemp -d "${TMPDIR:-/tmp}/dh-bench-split.XXXXXX")
chmod 755 "$SPLIT_PARENT"
SPLIT_DIR=$SPLIT_PARENT/shape
GATEWAY_PORT=$(free_port)
# The same token lifetime and log level as the single process; SERVER_ARGS for every process.
SPLIT_EXTRA_ARGS="--access-token-ttl 86400 --log-level info${SERVER_ARGS:+ $SERVER_ARGS}"
note "starting the split shape (scripts/split.sh start)"
SPLIT_OUT=$(env -u TLS_PORT GATEWAY_PORT="$GATEWAY_PORT" RATE=$SPLIT_RATE BURST=$SPLIT_RATE DELIVERYHUB_BIN="$BIN" \
  DELIVERYHUB_DATABASE="$PG_BASE/bench_split" DELIVERYHUB_BUS="$BUS_URL" SPLIT_EXTRA_ARGS="$SPLIT_EXTRA_ARGS" \
  timeout 240 bash "$REPO_ROOT/scripts/split.sh" start "$SPLIT_DIR" 2>"$TMP/split-start.err") ||
  { cat "$TMP/split-start.err" >&2; die "scripts/split.sh start failed"; }
SPLIT=$(tail -n 1 <<<"$SPLIT_OUT")
[[ $SPLIT == "http://127.0.0.1:$GATEWAY_PORT" ]] || die "scripts/split.sh printed '$SPLIT', expected the gateway URL"
SPLIT_ORDERS=http://127.0.0.1:$(cat "$SPLIT_DIR/orders.port")   # /metrics is not behind the gateway
note "split shape: gateway $SPLIT, orders process $SPLIT_ORDERS"

split_alive() {
  local m
  for m in "${MODULES[@]}"; do kill -0 "$(cat "$SPLIT_DIR/$m.pid")" 2>/dev/null || return 1; done
}

# Server-side check of one split run: the gateway's access log (one JSON object per line,
# config/nginx's log_format gateway) — its lines, and those without status DH_OK_STATUS by status (499: wrk
# closed the connection with the request in flight when it stopped) — and the modules' request
# lines with a status >= 400 (module-to-module calls included), by module and status. Those lines
# are kept in $TMP/split.errors.log (at most 50 of each kind per run), the modules' other lines
# in $TMP/split.other.log; every log is truncated (all are opened in append mode).
# Prints: gateway_lines gateway_not_ok_but_499 gateway_statuses module_errors module_statuses
# (statuses as STATUS×COUNT,… or "-").
drain_split_logs() {
  local gw=$SPLIT_DIR/nginx/access.log total bad gw_hist module_bad module_hist m log
  total=$(wc -l <"$gw")
  local status_of='{ st = $0; sub(/.*"status":/, "", st); sub(/[^0-9].*/, "", st) }'
  awk -v ok="$DH_OK_STATUS" "$status_of"' st != ok && n++ < 50' "$gw" >>"$TMP/split.errors.log"
  read -r bad gw_hist < <(awk -v ok="$DH_OK_STATUS" "$status_of"' st != ok { c[st]++; if (st != 499) n++ }
    END { h = ""; for (s in c) h = h (h == "" ? "" : ",") s "×" c[s]; print n + 0, (h == "" ? "-" : h) }' "$gw")
  : >"$gw"
  for m in "${MODULES[@]}"; do
    log=$SPLIT_DIR/$m.log
    grep '"msg":"request"' "$log" | grep '"status":[45][0-9][0-9],' | sed "s/^/$m: /" >"$TMP/split.module-errors" || true
    head -n 50 "$TMP/split.module-errors" >>"$TMP/split.errors.log"
    grep -o '^[a-z]*: .*"status":[0-9]*' "$TMP/split.module-errors" | sed -E 's/^([a-z]+): .*"status":([0-9]+)$/\1:\2/' >>"$TMP/split.module-statuses" || true
    grep -v '"msg":"request"' "$log" | sed "s/^/$m: /" >>"$TMP/split.other.log" || true
    : >"$log"
  done
  module_bad=$(wc -l <"$TMP/split.module-statuses")
  module_hist=$(sort "$TMP/split.module-statuses" | uniq -c | awk '{ h = h (h == "" ? "" : ",") $2 "×" $1 } END { print (h == "" ? "-" : h) }')
  : >"$TMP/split.module-statuses"
  echo "$total $bad $gw_hist $module_bad $module_hist"
}

# warning_summary FILE: the warning/error lines of FILE (JSON log lines, optionally prefixed
# "module: "), as "[module: ]msg ×count; …", the most frequent 5; "none" when there are none.
warning_summary() {
  local out
  out=$(grep '"level":"\(warning\|warn\|error\|critical\)"' "$1" 2>/dev/null |
    jq -rR '(capture("^(?<m>[a-z]+): (?<j>[{].*)$") // {m: "", j: .}) as $l
            | ($l.j | fromjson? // {}) as $o | (if $l.m == "" then "" else $l.m + ": " end) + ($o.msg // "?")' |
    sort | uniq -c | sort -rn | head -n 5 | awk '{ c = $1; $1 = ""; sub(/^ /, ""); printf "%s%s ×%d", (NR > 1 ? "; " : ""), $0, c }') || true
  echo "${out:-none}"
}

# --- the same set-up through each shape ------------------------------------------------------
# setup_target NAME BASE_URL: zone, product, courier, CUSTOMERS customers with an address each,
# one order of the last customer placed and seen confirmed (as orders_post.sh), then that order's
# body read as the customer (as orders_get.sh). Files $TMP/NAME.*.
declare -A URL GET_PATH GET_BYTES POST_BYTES METRICS
setup_target() {
  local t=$1
  DH=$2
  note "set-up of target $t through $DH"
  setup_order_shop "$CUSTOMERS" "$TMP/$t.customers" "$TMP/$t.post-body.json"
  POST_BYTES[$t]=$BODY_BYTES
  GET_PATH[$t]=/api/v1/orders/$ORDER_ID
  fetch_body "${GET_PATH[$t]}" "$ACCESS_TOKEN" "$TMP/$t.get-body.json" 200
  GET_BYTES[$t]=$BODY_BYTES
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ACCESS_TOKEN" >"$TMP/$t.auth.lua"
  echo "$ACCESS_TOKEN" >"$TMP/$t.token"
  URL[$t]=$DH
}
setup_target single "$SINGLE"
METRICS[single]=$SINGLE
setup_target split "$SPLIT"
METRICS[split]=$SPLIT_ORDERS

# --- the ceiling: nginx with single's GET body as a static file, and its 201 body as `return` --
prepare_nginx
mkdir -p "$NG/www$(dirname "${GET_PATH[single]}")"
install -m 644 "$TMP/single.get-body.json" "$NG/www${GET_PATH[single]}"
NG_LOCATION="$(return_location /api/v1/orders 201 "$TMP/single.post-body.json") location / { }"
RESOURCE=${GET_PATH[single]}
BODY_BYTES=${GET_BYTES[single]}
NG_REQUEST=( -H "Authorization: Bearer $(cat "$TMP/single.token")" )
launch_nginx 200
read -r code bytes < <("${CURL[@]}" -o /dev/null -w '%{http_code} %{size_download}\n' -X POST \
  -H 'Content-Type: application/json' --data "$(order_json adr_x)" "$NGX/api/v1/orders")
[[ $code == 201 && $bytes == "${POST_BYTES[single]}" ]] || die "nginx answers the POST with $code, $bytes bytes"
URL[ceiling]=$NGX

# The set-up's and the start-up's lines set aside; warning/error lines are counted from here on.
drain_startup_log
drain_split_logs >/dev/null
mv "$TMP/split.other.log" "$TMP/split.startup.log"
rm -f "$TMP/split.errors.log"

# use_target get|post TARGET: what wrk sends. nginx gets the single process's requests (same
# path, token and bodies), which it ignores.
use_target() {
  local who=$2
  [[ $who != ceiling ]] || who=single
  if [[ $1 == get ]]; then
    RESOURCE=${GET_PATH[$who]} WRK_SCRIPT=$TMP/$who.auth.lua WRK_SCRIPT_ARGS=()
  else
    RESOURCE=/api/v1/orders WRK_SCRIPT=$BENCH_DIR/orders_post.lua WRK_SCRIPT_ARGS=( "$TMP/$who.customers" "$SKU" )
  fi
}

# Before every POST run: both shapes' saga backlogs at 0 (each waited for at most DRAIN s).
UNDRAINED=0
wait_backlogs() {
  local t
  for t in single split; do
    wait_drained "${METRICS[$t]}"
    if (( LEFT > 0 )); then UNDRAINED=$((UNDRAINED + 1)); note "$t: saga backlog $LEFT after ${DRAIN}s"; fi
  done
}

# --- the runs ----------------------------------------------------------------------------------
# run_scenario get|post: warm-up, then RUNS × (ceiling, single, split). Appends to ROWS_$1 and
# SAGA_ROWS; the per-target values go to VALS[scenario:target:rps|p50|p99] (space-separated).
declare -A VALS
declare -a ROWS_get ROWS_post SAGA_ROWS
BAD_RUNS=0
run_scenario() {
  local sc=$1 i t out rps p50 p99 reqs non2xx errs ok other us rate server logged bad gw_hist module_bad module_hist
  local c0 o0 b0 c1 b1 c2 o2 b2 pct
  if [[ $sc == get ]]; then CONNECTIONS=$GET_CONNECTIONS DH_OK_STATUS=200; else CONNECTIONS=$POST_CONNECTIONS DH_OK_STATUS=201; fi
  if (( WARMUP > 0 )); then
    note "$sc: warm-up ${WARMUP}s per target (not recorded)"
    for t in "${TARGETS[@]}"; do
      use_target "$sc" "$t"
      run_wrk "${URL[$t]}" "$WARMUP" "$TMP/warmup-$sc-$t.txt"
    done
  fi
  for i in $(seq 1 "$RUNS"); do
    for t in "${TARGETS[@]}"; do
      use_target "$sc" "$t"
      out=$TMP/$sc-run$i-$t.txt
      if [[ $sc == post ]]; then
        wait_backlogs
        [[ $t == ceiling ]] || read -r c0 o0 b0 < <(saga_metrics "${METRICS[$t]}")
      fi
      # what the logs hold from before (set-up, GET /metrics) is not the run's
      drain_dh_log >/dev/null
      drain_split_logs >/dev/null
      note "$sc run $i/$RUNS: $t (${DURATION}s)"
      run_wrk "${URL[$t]}" "$DURATION" "$out"
      server="—"
      case $t in
        single)
          kill -0 "$DH_PID" 2>/dev/null || die "the single process died during $sc run $i"
          read -r logged bad < <(drain_dh_log)
          server="$logged logged, $bad non-$DH_OK_STATUS"
          if (( bad > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi ;;
        split)
          split_alive || die "a process of the split shape died during $sc run $i"
          read -r logged bad gw_hist module_bad module_hist < <(drain_split_logs)
          server="gateway $logged logged, non-$DH_OK_STATUS: $gw_hist; modules ≥ 400: $module_hist"
          if (( bad > 0 || module_bad > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi ;;
      esac
      read -r rps p50 p99 reqs non2xx errs < <(parse_wrk "$out") || { cat "$out" >&2; die "could not parse wrk output ($out)"; }
      if [[ $sc == get ]]; then
        rate=$rps
        ROWS_get+=("| $i | $t | $rps | $p50 | $p99 | $reqs | $non2xx | $errs | $server |")
        if (( non2xx > 0 || errs > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
      else
        read -r ok other us < <(parse_statuses "$out") || { cat "$out" >&2; die "no status counts in wrk output ($out)"; }
        rate=$(per_second "$ok" "$us")
        ROWS_post+=("| $i | $t | $rate | $rps | $p50 | $p99 | $reqs | $ok | $other | $errs | $server |")
        if (( other > 0 || errs > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
        if [[ $t != ceiling ]]; then
          read -r c1 _ b1 < <(saga_metrics "${METRICS[$t]}")
          sleep "$SETTLE"
          read -r c2 o2 b2 < <(saga_metrics "${METRICS[$t]}")
          pct=$(saga_pct "$(( c2 - c0 ))" "$ok")
          [[ $pct == n/a ]] || VALS[post:$t:saga]+=" $pct"
          SAGA_ROWS+=("| $i | $t | $b0 | $ok | $(( c1 - c0 )) | $(( c2 - c0 )) | $pct% | $(( o2 - o0 )) | $b1 | $b2 |")
          VALS[post:$t:last]="$b1 $b2"
        fi
      fi
      VALS[$sc:$t:rps]+=" $rate"; VALS[$sc:$t:p50]+=" $p50"; VALS[$sc:$t:p99]+=" $p99"
    done
  done
}

# check_body TARGET: the order's body again after the GET runs; a change is a warning.
BODY_CHECK=()
check_body() {
  DH=${URL[$1]}
  fetch_body "${GET_PATH[$1]}" "$(cat "$TMP/$1.token")" "$TMP/$1.get-body.after.json" 200
  if cmp -s "$TMP/$1.get-body.json" "$TMP/$1.get-body.after.json"; then
    BODY_CHECK+=("$1: the same after the runs")
  else
    BODY_CHECK+=("$1: CHANGED during the runs")
    WARNINGS+=("the order's body on $1 changed during the GET runs")
  fi
}

run_scenario get
check_body single
check_body split
run_scenario post

# --- medians, ratios ---------------------------------------------------------------------------
# medians_table SCENARIO: one row per target; the ratio of its median rate to the ceiling's.
medians_table() {
  local t ceiling med
  # shellcheck disable=SC2086  # the values are space-separated on purpose
  ceiling=$(median %.0f ${VALS[$1:ceiling:rps]})
  for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    med=$(median %.0f ${VALS[$1:$t:rps]})
    ratio "$med" "$ceiling"
    VALS[$1:$t:med]=$med
    # shellcheck disable=SC2086
    echo "| $t | $med | $(median %.3f ${VALS[$1:$t:p50]}) | $(median %.3f ${VALS[$1:$t:p99]}) | $RATIO ($RATIO_PCT) |"
  done
  ratio "${VALS[$1:split:med]}" "${VALS[$1:single:med]}"
  echo
  echo "**$2: split / single (median): $RATIO ($RATIO_PCT); single / ceiling and split / ceiling in the last column**"
}

# saga_summary TARGET: the median of confirmed by +SETTLE ÷ accepted, the last run's backlog.
saga_summary() {
  local med=n/a last b1 b2 trend
  # shellcheck disable=SC2086
  [[ -z ${VALS[post:$1:saga]:-} ]] || med=$(median %.1f ${VALS[post:$1:saga]})%
  read -r b1 b2 <<<"${VALS[post:$1:last]}"
  if (( b2 == 0 )); then trend="drained within ${SETTLE} s"
  elif (( b2 < b1 )); then trend="shrinking, not drained within ${SETTLE} s"
  else trend="NOT shrinking: the saga does not keep up"
  fi
  echo "$1: median confirmed by +${SETTLE} s / accepted $med; backlog at the end of the last run $b1, ${SETTLE} s later $b2 ($trend)"
}

(( BAD_RUNS == 0 )) || WARNINGS+=("$BAD_RUNS run(s) had non-2xx responses (non-201 for POST), socket errors or such log lines: see the tables")
(( UNDRAINED == 0 )) || WARNINGS+=("$UNDRAINED time(s) a saga backlog had not reached 0 within DRAIN=${DRAIN}s before a POST run")
SAGA_SINGLE=$(saga_summary single)
SAGA_SPLIT=$(saga_summary split)
for s in "$SAGA_SINGLE" "$SAGA_SPLIT"; do
  [[ $s != *"NOT shrinking"* ]] || WARNINGS+=("${s%%:*}: the saga backlog did not shrink after the last POST run")
done

# --- the end: servers stopped, logs checked, report --------------------------------------------
drain_split_logs >/dev/null
SPLIT_OTHER=$(grep -c '"level":"\(warning\|warn\|error\|critical\)"' "$TMP/split.other.log" 2>/dev/null || true)
SPLIT_OTHER=${SPLIT_OTHER:-0}
SPLIT_WARNINGS=$(warning_summary "$TMP/split.other.log")
(( SPLIT_OTHER == 0 )) || WARNINGS+=("the split shape's processes logged $SPLIT_OTHER warning/error line(s) during the runs")
finish_servers   # the ceiling's nginx and the single process; the split shape stops on exit
SINGLE_WARNINGS=$(warning_summary "$DH_KEEP")

display_split_cmd() { # the orders process's command line, as scripts/split.sh saved it
  local -a cmd
  mapfile -d '' cmd <"$SPLIT_DIR/orders.cmd"
  q "${cmd[@]}" | sed -E "s|$PG_BASE|\$PG|g; s|$BUS_URL|\$AMQP|g; s|(svc-[a-z]+):[0-9a-f]+|\1:\$SECRET|g; s|$REPO_ROOT/||g"
}
SERVER_ARGS_NOTE=""
[[ -z $SERVER_ARGS ]] || SERVER_ARGS_NOTE=" and $(q "$SERVER_ARGS")"

REPORT=$TMP/report.md
{
  report_head "split shape beside the single process: GET /api/v1/orders/{id} and POST /api/v1/orders"
  echo "- Tools: $WRK_VERSION, nginx $NGINX_VERSION, PostgreSQL $PG_VERSION, RabbitMQ $RMQ_VERSION"
  echo "- Command: \`$(script_cmd)\`"
  echo "- Targets, alternating ceiling → single → split in every run: **ceiling** = nginx (worker_processes auto, access_log off, sendfile on, keepalive_requests 1000000) serving the single process's GET body as a static file and answering the POST with \`return 201 '<its 201 body>'\`; **single** = \`$(display_dh_cmd | sed "s|$PG_BASE|\$PG|g")\` (every module, in-process bus, access log on to a file); **split** = \`scripts/split.sh start\` with DELIVERYHUB_DATABASE=\$PG/bench_split, DELIVERYHUB_BUS=\$AMQP, RATE=BURST=$SPLIT_RATE (the gateway's limit_req does not throttle), SPLIT_EXTRA_ARGS=\"--access-token-ttl 86400 --log-level info\"$SERVER_ARGS_NOTE: five processes, e.g. \`$(display_split_cmd)\`, behind its nginx gateway (config/nginx/deliveryhub-split.conf.template: access log on, upstream keepalive 16)"
  echo "- One PostgreSQL ($PG_VERSION, scripts/local-postgres.sh, fsync on) for both shapes, databases bench_single and bench_split, both fresh; one RabbitMQ (scripts/local-rabbitmq.sh) used by the split shape only"
  echo "- Set-up through each target separately (through the gateway for split), with curl: one zone, one product, one courier of capacity $COURIER_CAPACITY, $CUSTOMERS customers each with an address, one order placed and seen confirmed"
  echo "- GET: \`$(CONNECTIONS=$GET_CONNECTIONS; use_target get single; wrk_cmd "http://\$TARGET" "$DURATION")\` — the last customer's own confirmed order, ${GET_BYTES[single]} bytes on single (and ceiling), ${GET_BYTES[split]} on split; bodies: ${BODY_CHECK[*]}"
  echo "- POST: \`$(CONNECTIONS=$POST_CONNECTIONS; use_target post single; wrk_cmd "http://\$TARGET" "$DURATION")\` (orders_post.lua, orders spread over the $CUSTOMERS customers; accepted/s = 201 responses ÷ wrk's run time); 201 body ${POST_BYTES[single]} bytes on single (and ceiling), ${POST_BYTES[split]} on split. Before every POST run the script waits (at most ${DRAIN} s each) for both shapes' saga backlogs (pending + payment_authorized, from the orders process's GET /metrics) to reach 0; the saga is read before each deliveryhub run, at its end and ${SETTLE} s later"
  echo "- Warm-up ${WARMUP}s per target and scenario, not recorded. Server log: the single process's access log; the split's gateway access log and the modules' request lines with a status ≥ 400 (module-to-module calls included), as STATUS×COUNT; a 499 at the gateway is a request in flight when wrk closed its connections at the end of the run, not counted as an error"
  echo "- single $DH_STOP; warning/error log lines after start-up: single $OTHER_LINES ($SINGLE_WARNINGS), split $SPLIT_OTHER ($SPLIT_WARNINGS)"
  echo
  echo "**GET /api/v1/orders/{id}, $GET_CONNECTIONS connections**"
  echo
  echo "| run | target | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | server log |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS_get[@]}"
  echo
  echo "| median of $RUNS | req/s | p50 ms | p99 ms | of the ceiling |"
  echo "|---|---:|---:|---:|---:|"
  medians_table get "GET"
  echo
  echo "**POST /api/v1/orders, $POST_CONNECTIONS connections**"
  echo
  echo "| run | target | accepted/s | req/s | p50 ms | p99 ms | requests | 201 | non-201 | socket errors | server log |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS_post[@]}"
  echo
  echo "| run | target | backlog before | accepted (201) | confirmed during run | confirmed by +${SETTLE} s | confirmed / accepted | other saga outcomes | backlog at end | backlog +${SETTLE} s |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${SAGA_ROWS[@]}"
  echo
  echo "| median of $RUNS | accepted/s | p50 ms | p99 ms | of the ceiling |"
  echo "|---|---:|---:|---:|---:|"
  medians_table post "POST"
  echo
  echo "**Saga — $SAGA_SINGLE; $SAGA_SPLIT**"
  echo
} >"$REPORT"
publish_report "$REPORT"
[[ $DH_EXIT == 0 ]] || exit 1
