# Shared by the benchmark scripts in bench/ (sourced, not run): parameters, the binary, the temp
# dir and the traps that clean up, machine facts, starting deliveryhub and nginx on 127.0.0.1,
# the API set-up done with curl, wrk runs and their parsing, medians and the report.
# See bench/README.md. Every function dies (exit 1, which runs the cleanup trap) on an error.
# shellcheck shell=bash

BENCH_NAME=$(basename "$0")
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)

SERVER_ARGS=${SERVER_ARGS:-}
RESULTS=${RESULTS:-$REPO_ROOT/bench/RESULTS.md}
KEEP_TMP=${KEEP_TMP:-0}

WARNINGS=()
BENCH_PARAMS=()   # NAME=value of the numeric parameters, in order, for the recorded command line

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
note() { echo "[bench] $*" >&2; }

# bench_params NAME=default ...: each NAME from the environment or its default; a trailing "s"
# is dropped (DURATION=10s); every value must be a whole number.
bench_params() {
  local spec name value
  for spec in "$@"; do
    name=${spec%%=*}
    value=${!name:-${spec#*=}}
    value=${value%s}
    [[ $value =~ ^[0-9]+$ ]] || die "$name must be a whole number (got '${!name:-}')"
    printf -v "$name" '%s' "$value"
    BENCH_PARAMS+=("$name=$value")
  done
}

# Checks of the wrk parameters. $1 = seconds of wrk planned (bounded: the access tokens are
# issued once, for 24 h, the server's maximum).
check_wrk_params() {
  (( RUNS >= 1 && DURATION >= 1 && CONNECTIONS >= 1 && THREADS >= 1 )) || die "RUNS, DURATION, CONNECTIONS, THREADS must be >= 1"
  (( CONNECTIONS >= THREADS )) || die "CONNECTIONS must be >= THREADS (wrk needs one connection per thread)"
  (( $1 <= 80000 )) || die "RUNS*DURATION is too large ($1 s of wrk planned; the token lives 24 h)"
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "needs '$tool' on PATH"
  done
}

# The binary: $1 if given, else the release build, else the dev build with a warning. Sets BIN.
pick_binary() {
  ARGV_DISPLAY="$*"
  if [[ $# -ge 1 && -n $1 ]]; then
    BIN=$1
    [[ -x $BIN ]] || die "not an executable file: $BIN"
    BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
  else
    BIN=$REPO_ROOT/build/release/src/app/deliveryhub
    if [[ ! -x $BIN ]]; then
      local dev=$REPO_ROOT/build/dev/src/app/deliveryhub
      [[ -x $dev ]] || die "no binary: neither $BIN nor $dev exists (build first, or pass a path)"
      WARNINGS+=("build/release/src/app/deliveryhub does not exist; measured the DEV build ($dev) instead — not a release number")
      BIN=$dev
    fi
  fi
  BIN_DISPLAY=${BIN#"$REPO_ROOT"/}
}

# --- temp dir, cleanup ----------------------------------------------------------------------
DH_PID=""
NGINX_PID=""
DH_EXIT=""
NG=""

stop_nginx() {
  [[ -n $NGINX_PID ]] || return 0
  kill -QUIT "$NGINX_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$NGINX_PID" 2>/dev/null; then
    note "nginx (pid $NGINX_PID) did not quit in 10 s; SIGKILL"
    kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
}

# Sends SIGTERM, waits up to shutdown-grace + 5 s, records the exit code in DH_EXIT.
stop_deliveryhub() {
  [[ -n $DH_PID ]] || return 0
  kill -TERM "$DH_PID" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$DH_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$DH_PID" 2>/dev/null; then
    note "deliveryhub (pid $DH_PID) still running 15 s after SIGTERM; SIGKILL"
    kill -KILL "$DH_PID" 2>/dev/null || true
  fi
  local rc=0
  wait "$DH_PID" 2>/dev/null || rc=$?
  DH_EXIT=$rc
  DH_PID=""
}

# A script that starts more (PostgreSQL, RabbitMQ, the split shape) defines bench_cleanup: it
# runs on exit after nginx and deliveryhub are stopped, before the temp dirs are removed.
cleanup() {
  local rc=$?
  stop_nginx
  stop_deliveryhub
  if declare -F bench_cleanup >/dev/null; then bench_cleanup || true; fi
  if [[ $KEEP_TMP == 1 ]]; then
    note "temp dirs kept: $TMP $NG"
  else
    rm -rf "$TMP"
    [[ -z $NG ]] || rm -rf "$NG"
  fi
  exit "$rc"
}

make_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/dh-bench.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- machine facts --------------------------------------------------------------------------
machine_facts() {
  NPROC=$(nproc)
  CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  [[ -n $CPU_MODEL ]] || CPU_MODEL=unknown
  KERNEL=$(uname -sr)
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  if command -v wrk >/dev/null 2>&1; then
    WRK_VERSION=$( { wrk -v 2>&1 || true; } | awk 'NR==1 {print $1, $2}')   # wrk -v exits 1
  fi
  if command -v nginx >/dev/null 2>&1; then
    NGINX_VERSION=$( { nginx -v 2>&1 || true; } | sed 's/^nginx version: //')
  fi
  if awk -v l="${LOAD_BEFORE%% *}" -v n="$NPROC" 'BEGIN {exit !(l > 0.5 * n)}'; then
    WARNINGS+=("the machine was busy before the run (load average $LOAD_BEFORE on $NPROC CPUs): other processes compete for the CPU, numbers are unreliable")
  fi
}

# --- deliveryhub ----------------------------------------------------------------------------
export DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=operator@example.com
export DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=operator-password-123
CURL=( curl -sS --max-time 10 )

# Starts deliveryhub on 127.0.0.1:0 with a temp SQLite database (or DH_DATABASE) and the
# bootstrap operator, reads the address from its "listening" line (DH, DH_ADDR) and GET /version
# (BUILD_TYPE, …).
start_deliveryhub() {
  DH_LOG=$TMP/deliveryhub.log      # stdout: JSON lines incl. one access-log line per request
  DH_ERR=$TMP/deliveryhub.err
  DH_KEEP=$TMP/deliveryhub.other.log  # non-request lines seen during the runs
  # shellcheck disable=SC2206
  EXTRA=( $SERVER_ARGS )
  DH_CMD=( "$BIN" serve --listen 127.0.0.1:0 --database "${DH_DATABASE:-sqlite:$TMP/db.sqlite}" --log-level info
           --access-token-ttl 86400 "${EXTRA[@]}" )

  note "starting deliveryhub: $BIN"
  # cwd = $TMP: the development JWT key the server generates lands there, not in the repo.
  # stdout is opened in append mode so it can be truncated between runs (bounded disk use).
  # The benchmark is one address registering up to CUSTOMERS accounts: lift the per-address
  # registration limit (an environment variable, so binaries without that setting start too).
  # PIN_CPUS (a taskset list such as 0-3): the server runs on those CPUs only, and its thread
  # defaults follow them (bench/scaling.sh).
  local pin=()
  [[ -z ${PIN_CPUS:-} ]] || pin=( taskset -c "$PIN_CPUS" )
  ( cd "$TMP" && DELIVERYHUB_REGISTRATIONS_PER_ADDRESS=${DELIVERYHUB_REGISTRATIONS_PER_ADDRESS:-100000} \
      exec "${pin[@]}" "${DH_CMD[@]}" >>"$DH_LOG" 2>"$DH_ERR" ) &
  DH_PID=$!

  DH_ADDR=""
  for _ in $(seq 1 150); do
    if ! kill -0 "$DH_PID" 2>/dev/null; then
      cat "$DH_LOG" "$DH_ERR" >&2 || true
      die "deliveryhub exited during start-up"
    fi
    DH_ADDR=$(grep -m1 '"msg":"listening"' "$DH_LOG" 2>/dev/null | jq -r '.address // empty' || true)
    [[ -n $DH_ADDR ]] && break
    sleep 0.1
  done
  [[ -n $DH_ADDR ]] || { cat "$DH_LOG" "$DH_ERR" >&2 || true; die "no \"listening\" line from deliveryhub within 15 s"; }
  [[ $DH_ADDR == 127.0.0.1:* ]] || die "deliveryhub listens on $DH_ADDR, expected 127.0.0.1"
  DH="http://$DH_ADDR"
  note "deliveryhub listening on $DH_ADDR (pid $DH_PID)"

  local version_json
  version_json=$("${CURL[@]}" --fail "$DH/version")
  BUILD_TYPE=$(jq -r '.build_type // "unknown"' <<<"$version_json")
  APP_VERSION=$(jq -r '.version // "unknown"' <<<"$version_json")
  GIT_COMMIT=$(jq -r '.git_commit // "unknown"' <<<"$version_json")
  case $BUILD_TYPE in
    Release) ;;
    *) WARNINGS+=("the binary reports build_type=$BUILD_TYPE, not Release") ;;
  esac
}

# The common start of a wrk benchmark, up to starting deliveryhub: $1 = seconds of wrk planned,
# then the script's arguments.
prepare_wrk_bench() {
  local planned=$1; shift
  check_wrk_params "$planned"
  require_tools curl jq wrk nginx python3 awk sort
  pick_binary "$@"
  make_tmp
  machine_facts
}

begin_wrk_bench() {
  prepare_wrk_bench "$@"
  start_deliveryhub
}

# --- the API, with curl ---------------------------------------------------------------------
# api METHOD PATH EXPECTED_STATUS [TOKEN] [JSON]: dies unless the answer has that status;
# the body is left in API_BODY, its exact bytes in the file $API_BODY_FILE.
api() {
  local method=$1 path=$2 want=$3 token=${4:-} data=${5:-} code
  local args=( -X "$method" )
  [[ -z $token ]] || args+=( -H "Authorization: Bearer $token" )
  [[ -z $data ]] || args+=( -H 'Content-Type: application/json' --data "$data" )
  API_BODY_FILE=$TMP/api-body
  code=$("${CURL[@]}" -o "$API_BODY_FILE" -w '%{http_code}' "${args[@]}" "$DH$path") || die "$method $path: curl failed"
  API_BODY=$(cat "$API_BODY_FILE")
  [[ $code == "$want" ]] || die "$method $path answered $code (expected $want): $API_BODY"
}

# login EMAIL PASSWORD: prints an access token (password grant).
login() {
  local token_json token
  token_json=$("${CURL[@]}" --fail -X POST \
    --data-urlencode grant_type=password --data-urlencode "username=$1" \
    --data-urlencode "password=$2" "$DH/oauth/token")
  token=$(jq -r '.access_token // empty' <<<"$token_json")
  [[ -n $token ]] || die "no access_token in the token response: $token_json"
  echo "$token"
}

# register_customer EMAIL PASSWORD NAME: sets CUSTOMER_ID.
register_customer() {
  api POST /api/v1/customers 201 "" "$(jq -cn --arg e "$1" --arg p "$2" --arg n "$3" '{email: $e, password: $p, name: $n}')"
  CUSTOMER_ID=$(jq -r '.id' <<<"$API_BODY")
  [[ $CUSTOMER_ID == cus_* ]] || die "unexpected customer id: $CUSTOMER_ID"
}

# fetch_body PATH TOKEN FILE EXPECTED_STATUS: GET with the token, the exact body bytes into FILE;
# sets BODY_BYTES.
fetch_body() {
  local code
  code=$("${CURL[@]}" -o "$3" -w '%{http_code}' -H "Authorization: Bearer $2" "$DH$1")
  [[ $code == "$4" ]] || die "GET $1 answered $code: $(cat "$3")"
  BODY_BYTES=$(stat -c %s "$3")
  note "GET $1 -> $code, $BODY_BYTES bytes"
}

# The order set-up, as the operator: a zone for postal codes 28…, a product, a courier.
# Sets OPERATOR_TOKEN, ZONE_ID, SKU. The API caps a courier's capacity at 50.
SKU=BENCH-1
COURIER_CAPACITY=50
setup_catalog() {
  OPERATOR_TOKEN=$(login "$DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL" "$DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD")
  api POST /api/v1/zones 201 "$OPERATOR_TOKEN" '{"name":"Bench Madrid","postal_prefixes":["28"]}'
  ZONE_ID=$(jq -r '.id' <<<"$API_BODY")
  api POST /api/v1/catalog/products 201 "$OPERATOR_TOKEN" \
    "$(jq -cn --arg s "$SKU" '{sku: $s, name: "Bench product", price: 1250, currency: "EUR"}')"
  api POST /api/v1/couriers 201 "$OPERATOR_TOKEN" \
    "$(jq -cn --arg z "$ZONE_ID" --argjson c "$COURIER_CAPACITY" \
      '{name: "Bench Courier", email: "courier@example.com", password: "courier-password-123", zone_id: $z, capacity: $c}')"
}

# setup_customer N: registers bench-N@example.com, logs in, adds an address in the zone.
# Sets CUSTOMER_ID, ACCESS_TOKEN, ADDRESS_ID.
setup_customer() {
  local email=bench-$1@example.com password=bench-password-123
  register_customer "$email" "$password" "Bench Customer $1"
  ACCESS_TOKEN=$(login "$email" "$password")
  api POST "/api/v1/customers/$CUSTOMER_ID/addresses" 201 "$ACCESS_TOKEN" \
    '{"label":"home","line1":"Calle Mayor 1","city":"Madrid","postal_code":"28013","country":"ES"}'
  ADDRESS_ID=$(jq -r '.id' <<<"$API_BODY")
}

order_json() { # $1 = address id
  jq -cn --arg s "$SKU" --arg a "$1" '{items: [{sku: $s, quantity: 1}], address_id: $a, payment_method: "tok_visa"}'
}

# place_order TOKEN ADDRESS_ID: sets ORDER_ID (API_BODY holds the 201 body).
place_order() {
  api POST /api/v1/orders 201 "$1" "$(order_json "$2")"
  ORDER_ID=$(jq -r '.id' <<<"$API_BODY")
  [[ $ORDER_ID == ord_* ]] || die "unexpected order id: $ORDER_ID"
}

# wait_confirmed ORDER_ID TOKEN: polls GET /api/v1/orders/{id} (≤ 15 s) until "confirmed".
wait_confirmed() {
  local status=""
  for _ in $(seq 1 150); do
    api GET "/api/v1/orders/$1" 200 "$2"
    status=$(jq -r '.status' <<<"$API_BODY")
    case $status in
      confirmed) return 0 ;;
      pending|payment_authorized) sleep 0.1 ;;
      *) die "order $1 is $status, not confirmed: $API_BODY" ;;
    esac
  done
  die "order $1 still $status 15 s after it was placed"
}

# setup_order_shop N CUSTOMERS_FILE BODY_FILE: the catalog, N customers (one line each in
# CUSTOMERS_FILE: "ACCESS_TOKEN ADDRESS_ID"), then one order of the last customer placed with curl
# (its 201 body into BODY_FILE, its size in BODY_BYTES) and seen confirmed. ACCESS_TOKEN,
# ADDRESS_ID and ORDER_ID stay those of the last customer and that order.
setup_order_shop() {
  local n
  setup_catalog
  : >"$2"
  note "registering $1 customers"
  for n in $(seq -w 1 "$1"); do
    setup_customer "$n"
    echo "$ACCESS_TOKEN $ADDRESS_ID" >>"$2"
  done
  place_order "$ACCESS_TOKEN" "$ADDRESS_ID"
  cp "$API_BODY_FILE" "$3"
  BODY_BYTES=$(stat -c %s "$3")
  wait_confirmed "$ORDER_ID" "$ACCESS_TOKEN"
  note "order $ORDER_ID confirmed; POST /api/v1/orders -> 201, $BODY_BYTES bytes"
}

# The whole order set-up: catalog, customer 1, one order, confirmed.
setup_confirmed_order() {
  setup_catalog
  setup_customer 1
  place_order "$ACCESS_TOKEN" "$ADDRESS_ID"
  wait_confirmed "$ORDER_ID" "$ACCESS_TOKEN"
  note "order $ORDER_ID confirmed"
}

# --- nginx ----------------------------------------------------------------------------------
# Its own directory, readable by the unprivileged worker processes (nginx started as root runs
# them as nobody, and $TMP is 0700): it holds only the config, the logs and the files served.
prepare_nginx() {
  NG=$(mktemp -d "${TMPDIR:-/tmp}/dh-bench-nginx.XXXXXX")
  chmod 755 "$NG"
  mkdir -p "$NG/www" "$NG/tmp"
}

# The location block(s) of the server; the default serves the files under $NG/www.
NG_LOCATION='location / { }'
NG_REQUEST=()   # extra curl arguments of the probe request (method, headers, body)

# Returns 0 when nginx answers $RESOURCE with status $2, 1 when it exited (e.g. the port was
# taken meanwhile).
start_nginx() {
  local port=$1 want=$2
  cat >"$NG/nginx.conf" <<EOF
worker_processes ${NGINX_WORKERS:-auto};
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 4096; }
http {
  types { text/html html; application/json json; }
  default_type application/json;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $NG/tmp/client;
  proxy_temp_path $NG/tmp/proxy;
  fastcgi_temp_path $NG/tmp/fastcgi;
  uwsgi_temp_path $NG/tmp/uwsgi;
  scgi_temp_path $NG/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $NG/www;
    $NG_LOCATION
  }
}
EOF
  local pin=()
  [[ -z ${PIN_CPUS:-} ]] || pin=( taskset -c "$PIN_CPUS" )
  "${pin[@]}" nginx -c "$NG/nginx.conf" -p "$NG" -e "$NG/error.log" -g 'daemon off;' >"$NG/stdout.log" 2>&1 &
  NGINX_PID=$!
  for _ in $(seq 1 50); do
    kill -0 "$NGINX_PID" 2>/dev/null || { wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""; return 1; }
    if [[ $("${CURL[@]}" -o /dev/null -w '%{http_code}' "${NG_REQUEST[@]}" "http://127.0.0.1:$port$RESOURCE" 2>/dev/null || true) == "$want" ]]; then
      return 0
    fi
    sleep 0.1
  done
  stop_nginx
  tail -n 5 "$NG/error.log" "$NG/stdout.log" >&2 || true
  die "nginx runs but does not answer $RESOURCE with $want within 5 s"
}

# launch_nginx STATUS: starts nginx on a free port (3 tries), checks that it answers $RESOURCE
# with STATUS and $BODY_BYTES bytes. Sets NGINX_PORT, NGX.
launch_nginx() {
  local p ngx_bytes
  NGINX_PORT=""
  for _ in 1 2 3; do
    p=$(free_port)
    if start_nginx "$p" "$1"; then NGINX_PORT=$p; break; fi
    note "nginx exited at start on port $p; retrying with another port"
  done
  [[ -n $NGINX_PORT ]] || { tail -n 20 "$NG/error.log" "$NG/stdout.log" >&2 || true; die "could not start nginx"; }
  NGX="http://127.0.0.1:$NGINX_PORT"
  ngx_bytes=$("${CURL[@]}" -o /dev/null -w '%{size_download}' "${NG_REQUEST[@]}" "$NGX$RESOURCE")
  [[ $ngx_bytes == "$BODY_BYTES" ]] || die "nginx serves $ngx_bytes bytes, deliveryhub $BODY_BYTES"
  note "nginx $NGINX_VERSION listening on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID)"
}

# return_location PATH STATUS BODY_FILE: prints an nginx location answering PATH with
# `return STATUS '<body>'` — how nginx answers a POST (it cannot POST to a static file: 405);
# it reads and discards the request body. The body goes between single quotes, where ' \ and $
# would mean something else: deliveryhub's bodies (ids, the bench's own names) hold none of them.
return_location() {
  local body
  body=$(cat "$3")
  [[ $body == "$(tr -d "'\\\\\$" <"$3")" && $(printf '%s' "$body" | wc -c) == "$(stat -c %s "$3")" ]] ||
    die "the body of $3 holds a quote, backslash, dollar or trailing newline; nginx cannot return it verbatim"
  echo "location = $1 { return $2 '$body'; }"
}

# --- wrk ------------------------------------------------------------------------------------
# WRK_SCRIPT is the Lua script, WRK_SCRIPT_ARGS what follows "--" on the command line.
WRK_SCRIPT_ARGS=()
wrk_args() { # $1 = base URL, $2 = seconds; sets WRK_ARGS
  WRK_ARGS=( wrk "-t$THREADS" "-c$CONNECTIONS" "-d${2}s" --latency -s "$WRK_SCRIPT" "$1$RESOURCE" )
  (( ${#WRK_SCRIPT_ARGS[@]} == 0 )) || WRK_ARGS+=( -- "${WRK_SCRIPT_ARGS[@]}" )
}
wrk_cmd() { # the command line as recorded, temp dir and repo paths shortened
  wrk_args "$@"
  echo "${WRK_ARGS[*]}" | sed "s|$TMP|\$TMP|g; s|$REPO_ROOT/||g"
}

run_wrk() { # $1 = base URL, $2 = seconds, $3 = output file
  wrk_args "$1" "$2"
  timeout --signal=INT --kill-after=10 $(( $2 + 30 )) "${WRK_ARGS[@]}" >"$3" 2>&1 || {
    cat "$3" >&2; die "wrk failed against $1"; }
}

# Prints: rps p50_ms p99_ms requests non2xx socket_errors
parse_wrk() {
  awk '
    function ms(v,   n) {
      n = v + 0
      if (v ~ /us$/) return n / 1000
      if (v ~ /ms$/) return n
      if (v ~ /s$/)  return n * 1000
      return n
    }
    /^ +50%/            { p50 = ms($2) }
    /^ +99%/            { p99 = ms($2) }
    / requests in /     { reqs = $1 }
    /^Requests\/sec:/   { rps = $2 }
    /Non-2xx or 3xx/    { non2xx = $NF }
    /Socket errors:/    { gsub(/,/, ""); errs = $4 + $6 + $8 + $10 }
    END {
      if (rps == "" || p50 == "" || p99 == "") exit 1
      printf "%.2f %.3f %.3f %d %d %d\n", rps, p50, p99, reqs, non2xx + 0, errs + 0
    }' "$1"
}

# Server-side check of one deliveryhub run: request lines logged and how many did not have the
# status DH_OK_STATUS. Then truncates the log (opened in append mode) so disk use stays bounded.
DH_OK_STATUS=200
drain_dh_log() {
  local total bad
  total=$(grep -c '"msg":"request"' "$DH_LOG" || true)
  bad=$(grep '"msg":"request"' "$DH_LOG" | grep -vc "\"status\":$DH_OK_STATUS" || true)
  grep -v '"msg":"request"' "$DH_LOG" >>"$DH_KEEP" || true
  : >"$DH_LOG"
  echo "${total:-0} ${bad:-0}"
}

# After the set-up: the start-up lines (with the expected dev-key warning) are set aside, the
# warning/error lines are counted from here on.
drain_startup_log() {
  drain_dh_log >/dev/null
  mv "$DH_KEEP" "$TMP/deliveryhub.startup.log"
}

# The start-up lines set aside, then WARMUP s of unrecorded wrk per target (0: none).
warm_up() {
  drain_startup_log
  if (( WARMUP > 0 )); then
    note "warm-up: ${WARMUP}s per target (not recorded)"
    run_wrk "$NGX" "$WARMUP" "$TMP/warmup-nginx.txt"
    run_wrk "$DH" "$WARMUP" "$TMP/warmup-deliveryhub.txt"
    drain_dh_log >/dev/null
  fi
}

# Prints: status_201 other duration_us — the line done() of orders_post.lua writes.
parse_statuses() {
  awk '/^orders_post: / { print $3, $5, $7; found = 1 } END { exit !found }' "$1"
}

per_second() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.2f", (us > 0) ? n / (us / 1e6) : 0 }'; }

# --- the saga, from GET /metrics ------------------------------------------------------------
# saga_metrics BASE_URL (of the process running the orders module) prints: confirmed
# other_outcomes backlog — the counter deliveryhub_saga_outcomes_total by outcome (confirmed / any
# other), and the gauges deliveryhub_orders{status="pending"} + {status="payment_authorized"}.
# A counter not yet incremented is absent: 0.
saga_metrics() {
  "${CURL[@]}" --fail "$1/metrics" | awk '
    /^deliveryhub_saga_outcomes_total\{/ {
      if ($0 ~ /outcome="confirmed"/) confirmed += $NF; else other += $NF
    }
    /^deliveryhub_orders\{status="(pending|payment_authorized)"\}/ { backlog += $NF }
    /^deliveryhub_orders\{/ { seen = 1 }
    END {
      if (!seen) exit 1
      printf "%d %d %d\n", confirmed, other, backlog
    }' || die "GET $1/metrics: no deliveryhub_orders gauge"
}

# outbox_backlog BASE_URL prints the events committed to the outboxes and not yet delivered (the
# gauge deliveryhub_outbox_backlog summed over modules; 0 when absent).
outbox_backlog() {
  "${CURL[@]}" --fail "$1/metrics" | awk '/^deliveryhub_outbox_backlog\{/ { n += $NF } END { printf "%d\n", n }' \
    || die "GET $1/metrics failed"
}

# cost_snapshot BASE_URL PID [SQLITE_FILE] prints: commits writes statements wal_frames cpu_us
# db_bytes — the counters deliveryhub_db_{commits,writes,statements,wal_frames}_total from
# GET /metrics (0 when a binary has none), the process's user + system CPU time in µs from
# /proc/PID/stat, and the size of the SQLite file with its WAL (0 for another database).
cost_snapshot() {
  local counters ticks bytes=0 hz
  counters=$("${CURL[@]}" --fail "$1/metrics" | awk '
    /^deliveryhub_db_commits_total\{/ { c += $NF }
    /^deliveryhub_db_writes_total\{/ { w += $NF }
    /^deliveryhub_db_statements_total\{/ { s += $NF }
    /^deliveryhub_db_wal_frames_total\{/ { f += $NF }
    END { printf "%d %d %d %d\n", c, w, s, f }') || die "GET $1/metrics failed"
  hz=$(getconf CLK_TCK)
  # Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name.
  ticks=$(sed 's/.*) //' "/proc/$2/stat" | awk '{ print $12 + $13 }')
  if [[ -n ${3:-} && -f $3 ]]; then
    bytes=$(( $(stat -c %s "$3") + $( [[ -f $3-wal ]] && stat -c %s "$3-wal" || echo 0) ))
  fi
  echo "$counters $(( ticks * 1000000 / hz )) $bytes"
}

# wait_drained BASE_URL: waits (<= DRAIN s) until the backlog is 0; sets LEFT to the backlog left.
wait_drained() {
  local deadline=$(( SECONDS + DRAIN ))
  while :; do
    read -r _ _ LEFT < <(saga_metrics "$1")
    (( LEFT > 0 && SECONDS < deadline )) || break
    sleep 0.5
  done
}

# saga_pct CONFIRMED ACCEPTED: prints 100 × CONFIRMED / ACCEPTED with one decimal, or n/a.
saga_pct() {
  awk -v c="$1" -v a="$2" 'BEGIN { if (a > 0) printf "%.1f", 100 * c / a; else print "n/a" }'
}

median() { # $1 = printf format, then the values; an even count gives the mean of the middle two
  local fmt=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v f="$fmt\n" '{v[NR] = $1} END {
    if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: sets RATIO (A/B, 3 decimals) and RATIO_PCT.
ratio() {
  RATIO=$(awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
  RATIO_PCT=$(awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }')
}

# --- the end of a run -----------------------------------------------------------------------
# Stops both servers, checks deliveryhub's exit code and the warning/error lines it logged
# after start-up. Sets LOAD_AFTER, DH_STOP, OTHER_LINES.
finish_servers() {
  LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
  stop_nginx
  stop_deliveryhub
  if [[ $DH_EXIT == 0 ]]; then
    DH_STOP="exited 0 after SIGTERM"
  else
    DH_STOP="exit code $DH_EXIT after SIGTERM (expected 0)"
    WARNINGS+=("deliveryhub $DH_STOP")
  fi
  grep -v '"msg":"request"' "$DH_LOG" >>"$DH_KEEP" 2>/dev/null || true
  # warning/error lines written during the runs and the shutdown (not the start-up dev-key warning)
  OTHER_LINES=$(grep -c '"level":"\(warning\|warn\|error\|critical\)"' "$DH_KEEP" 2>/dev/null || true)
  OTHER_LINES=${OTHER_LINES:-0}
  (( OTHER_LINES == 0 )) || WARNINGS+=("deliveryhub logged $OTHER_LINES warning/error line(s) during the runs or the shutdown")
}

# --- report ---------------------------------------------------------------------------------
q() { printf '%q ' "$@" | sed 's/ $//'; }

# The script's command line as recorded: parameters, SERVER_ARGS, arguments.
script_cmd() {
  local cmd="${BENCH_PARAMS[*]}"
  [[ -z $SERVER_ARGS ]] || cmd+=" SERVER_ARGS=$(q "$SERVER_ARGS")"
  echo "$cmd bash bench/$BENCH_NAME${ARGV_DISPLAY:+ $ARGV_DISPLAY}"
}

display_dh_cmd() { q "${DH_CMD[@]}" | sed "s|$TMP|\$TMP|g; s|$REPO_ROOT/||g"; }

# report_head TITLE: the dated heading, the warnings, the machine and the binary.
report_head() {
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — $1 (build_type $BUILD_TYPE, commit $GIT_COMMIT)"
  echo
  local w
  for w in "${WARNINGS[@]}"; do echo "> **Warning:** $w"; echo; done
  echo "- Machine: $NPROC CPUs, $CPU_MODEL, $KERNEL; load average before $LOAD_BEFORE, after $LOAD_AFTER"
  echo "- Binary: \`$BIN_DISPLAY\` — version $APP_VERSION, git_commit $GIT_COMMIT, build_type $BUILD_TYPE (from GET /version)"
}

# The lines every wrk report has after the heading: tools, commands, access log, wrk commands.
report_wrk_setup() {
  echo "- Tools: $WRK_VERSION, nginx $NGINX_VERSION (worker_processes ${NGINX_WORKERS:-auto}, access_log off, sendfile on, keepalive_requests 1000000)"
  [[ -z ${PIN_CPUS:-} ]] || echo "- Pinned: deliveryhub and nginx to CPUs $PIN_CPUS (\`taskset -c $PIN_CPUS\`); wrk unpinned"
  echo "- Command: \`$(script_cmd)\`"
  echo "- Server: \`$(display_dh_cmd)\` (cwd \$TMP; default io/worker threads unless SERVER_ARGS says otherwise)"
  echo "- Access log ON: log level info, one JSON line per request on stdout, written to a file in \$TMP (truncated between runs)"
  echo "- wrk (nginx): \`$(wrk_cmd "$NGX" "$DURATION")\`"
  echo "- wrk (deliveryhub): \`$(wrk_cmd "$DH" "$DURATION")\`"
}

# publish_report FILE: prints it and appends it to $RESULTS unless RESULTS=-.
publish_report() {
  echo
  cat "$1"
  if [[ $RESULTS != "-" ]]; then
    cat "$1" >>"$RESULTS"
    note "appended to $RESULTS"
  fi
}

# --- GET benchmark against the nginx ceiling (customers_get.sh, orders_get.sh) --------------
# Needs RESOURCE, ACCESS_TOKEN and the body in $BODY_FILE ($BODY_BYTES). nginx serves a copy of
# the body as a static file at the same path; warm-up, then RUNS × (nginx, deliveryhub), the
# medians, both servers stopped.
run_get_ceiling() {
  prepare_nginx
  mkdir -p "$NG/www$(dirname "$RESOURCE")"
  install -m 644 "$BODY_FILE" "$NG/www$RESOURCE"
  [[ $(stat -c %s "$NG/www$RESOURCE") == "$BODY_BYTES" ]] || die "static file size mismatch"
  NG_REQUEST=( -H "Authorization: Bearer $ACCESS_TOKEN" )
  launch_nginx 200

  # The same request (path and Authorization header) goes to both targets; nginx ignores the header.
  WRK_SCRIPT=$TMP/auth.lua
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ACCESS_TOKEN" >"$WRK_SCRIPT"

  warm_up

  local i target url out rps p50 p99 reqs non2xx errs server logged bad
  local -a ng_rps ng_p50 ng_p99 dh_rps dh_p50 dh_p99
  ROWS=()
  BAD_RUNS=0
  for i in $(seq 1 "$RUNS"); do
    for target in nginx deliveryhub; do
      if [[ $target == nginx ]]; then url=$NGX; else url=$DH; fi
      out=$TMP/run$i-$target.txt
      note "run $i/$RUNS: $target (${DURATION}s)"
      run_wrk "$url" "$DURATION" "$out"
      read -r rps p50 p99 reqs non2xx errs < <(parse_wrk "$out") || { cat "$out" >&2; die "could not parse wrk output ($out)"; }
      server="—"
      if [[ $target == deliveryhub ]]; then
        kill -0 "$DH_PID" 2>/dev/null || die "deliveryhub died during run $i"
        read -r logged bad < <(drain_dh_log)
        server="$logged logged, $bad non-$DH_OK_STATUS"
        dh_rps+=("$rps"); dh_p50+=("$p50"); dh_p99+=("$p99")
        if (( bad > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
      else
        ng_rps+=("$rps"); ng_p50+=("$p50"); ng_p99+=("$p99")
      fi
      if (( non2xx > 0 || errs > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
      ROWS+=("| $i | $target | $rps | $p50 | $p99 | $reqs | $non2xx | $errs | $server |")
    done
  done

  MED_NG_RPS=$(median %.0f "${ng_rps[@]}"); MED_NG_P50=$(median %.3f "${ng_p50[@]}"); MED_NG_P99=$(median %.3f "${ng_p99[@]}")
  MED_DH_RPS=$(median %.0f "${dh_rps[@]}"); MED_DH_P50=$(median %.3f "${dh_p50[@]}"); MED_DH_P99=$(median %.3f "${dh_p99[@]}")
  ratio "$MED_DH_RPS" "$MED_NG_RPS"
  (( BAD_RUNS == 0 )) || WARNINGS+=("$BAD_RUNS run(s) had non-2xx responses, socket errors or non-$DH_OK_STATUS access-log lines: see the table")
}

# get_ceiling_report TITLE SAME_LINE [EXTRA_LINE...]: the report of run_get_ceiling, printed
# and appended. SAME_LINE says what is identical for both targets; EXTRA_LINEs follow the table.
get_ceiling_report() {
  local title=$1 same=$2; shift 2
  finish_servers
  local report=$TMP/report.md
  {
    report_head "$title"
    report_wrk_setup
    echo "- $same"
    echo "- deliveryhub $DH_STOP; warning/error log lines after start-up: $OTHER_LINES"
    echo
    echo "| run | target | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | server log |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "| median of $RUNS | req/s | p50 ms | p99 ms |"
    echo "|---|---:|---:|---:|"
    echo "| nginx (ceiling) | $MED_NG_RPS | $MED_NG_P50 | $MED_NG_P99 |"
    echo "| deliveryhub | $MED_DH_RPS | $MED_DH_P50 | $MED_DH_P99 |"
    echo
    echo "**Ratio deliveryhub / nginx (median req/s): $RATIO ($RATIO_PCT of the ceiling)**"
    echo
    local line
    for line in "$@"; do echo "$line"; echo; done
  } >"$report"
  publish_report "$report"
  [[ $DH_EXIT == 0 ]] || exit 1
}
