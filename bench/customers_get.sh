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

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

RUNS=${RUNS:-5}
DURATION=${DURATION:-10}
DURATION=${DURATION%s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2}
WARMUP=${WARMUP%s}
SERVER_ARGS=${SERVER_ARGS:-}
RESULTS=${RESULTS:-$REPO_ROOT/bench/RESULTS.md}
KEEP_TMP=${KEEP_TMP:-0}

die() { echo "customers_get.sh: $*" >&2; exit 1; }
note() { echo "[bench] $*" >&2; }

for v in RUNS DURATION CONNECTIONS THREADS WARMUP; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
(( RUNS >= 1 && DURATION >= 1 && CONNECTIONS >= 1 && THREADS >= 1 )) || die "RUNS, DURATION, CONNECTIONS, THREADS must be >= 1"
(( CONNECTIONS >= THREADS )) || die "CONNECTIONS must be >= THREADS (wrk needs one connection per thread)"
# Bounded in time: the access token is issued once, for 24 h (the server's maximum).
PLANNED=$(( 2 * (RUNS * DURATION + WARMUP) ))
(( PLANNED <= 80000 )) || die "RUNS*DURATION is too large ($PLANNED s of wrk planned; the token lives 24 h)"

for tool in curl jq wrk nginx python3 awk sort; do
  command -v "$tool" >/dev/null 2>&1 || die "needs '$tool' on PATH"
done

# --- the binary -----------------------------------------------------------------------------
WARNINGS=()
ARGV_DISPLAY="$*"
if [[ $# -ge 1 && -n $1 ]]; then
  BIN=$1
  [[ -x $BIN ]] || die "not an executable file: $BIN"
  BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
else
  BIN=$REPO_ROOT/build/release/src/app/deliveryhub
  if [[ ! -x $BIN ]]; then
    DEV=$REPO_ROOT/build/dev/src/app/deliveryhub
    [[ -x $DEV ]] || die "no binary: neither $BIN nor $DEV exists (build first, or pass a path)"
    WARNINGS+=("build/release/src/app/deliveryhub does not exist; measured the DEV build ($DEV) instead — not a release number")
    BIN=$DEV
  fi
fi

# --- temp dir, cleanup ----------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dh-bench.XXXXXX")
DH_PID=""
NGINX_PID=""
DH_EXIT=""

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

cleanup() {
  local rc=$?
  stop_nginx
  stop_deliveryhub
  if [[ $KEEP_TMP == 1 ]]; then
    note "temp dirs kept: $TMP ${NG:-}"
  else
    rm -rf "$TMP"
    [[ -z ${NG:-} ]] || rm -rf "$NG"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- machine facts --------------------------------------------------------------------------
NPROC=$(nproc)
CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
[[ -n $CPU_MODEL ]] || CPU_MODEL=unknown
KERNEL=$(uname -sr)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WRK_VERSION=$( { wrk -v 2>&1 || true; } | awk 'NR==1 {print $1, $2}')   # wrk -v exits 1
NGINX_VERSION=$( { nginx -v 2>&1 || true; } | sed 's/^nginx version: //')
if awk -v l="${LOAD_BEFORE%% *}" -v n="$NPROC" 'BEGIN {exit !(l > 0.5 * n)}'; then
  WARNINGS+=("the machine was busy before the run (load average $LOAD_BEFORE on $NPROC CPUs): other processes compete for the CPU, numbers are unreliable")
fi

# --- deliveryhub ----------------------------------------------------------------------------
BENCH_EMAIL=bench@example.com
BENCH_PASSWORD=bench-password-123
export DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=operator@example.com
export DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=operator-password-123
DH_LOG=$TMP/deliveryhub.log      # stdout: JSON lines incl. one access-log line per request
DH_ERR=$TMP/deliveryhub.err
DH_KEEP=$TMP/deliveryhub.other.log  # non-request lines seen during the runs
# shellcheck disable=SC2206
EXTRA=( $SERVER_ARGS )
DH_CMD=( "$BIN" serve --listen 127.0.0.1:0 --database "sqlite:$TMP/db.sqlite" --log-level info
         --access-token-ttl 86400 "${EXTRA[@]}" )

note "starting deliveryhub: $BIN"
# cwd = $TMP: the development JWT key the server generates lands there, not in the repo.
# stdout is opened in append mode so it can be truncated between runs (bounded disk use).
( cd "$TMP" && exec "${DH_CMD[@]}" >>"$DH_LOG" 2>"$DH_ERR" ) &
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

CURL=( curl -sS --max-time 10 )
VERSION_JSON=$("${CURL[@]}" --fail "$DH/version")
BUILD_TYPE=$(jq -r '.build_type // "unknown"' <<<"$VERSION_JSON")
APP_VERSION=$(jq -r '.version // "unknown"' <<<"$VERSION_JSON")
GIT_COMMIT=$(jq -r '.git_commit // "unknown"' <<<"$VERSION_JSON")
case $BUILD_TYPE in
  Release) ;;
  *) WARNINGS+=("the binary reports build_type=$BUILD_TYPE, not Release") ;;
esac

REG_BODY=$(jq -cn --arg e "$BENCH_EMAIL" --arg p "$BENCH_PASSWORD" '{email: $e, password: $p, name: "Bench Customer"}')
REG=$("${CURL[@]}" -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' --data "$REG_BODY" "$DH/api/v1/customers")
[[ ${REG##*$'\n'} == 201 ]] || die "registering the customer failed: $REG"
CUSTOMER_ID=$(jq -r '.id' <<<"${REG%$'\n'*}")
[[ $CUSTOMER_ID == cus_* ]] || die "unexpected customer id: $CUSTOMER_ID"

TOKEN_JSON=$("${CURL[@]}" --fail -X POST \
  --data-urlencode grant_type=password --data-urlencode "username=$BENCH_EMAIL" \
  --data-urlencode "password=$BENCH_PASSWORD" "$DH/oauth/token")
ACCESS_TOKEN=$(jq -r '.access_token // empty' <<<"$TOKEN_JSON")
[[ -n $ACCESS_TOKEN ]] || die "no access_token in the token response: $TOKEN_JSON"

RESOURCE=/api/v1/customers/$CUSTOMER_ID
BODY_FILE=$TMP/body.json
CODE=$("${CURL[@]}" -o "$BODY_FILE" -w '%{http_code}' -H "Authorization: Bearer $ACCESS_TOKEN" "$DH$RESOURCE")
[[ $CODE == 200 ]] || die "GET $RESOURCE answered $CODE: $(cat "$BODY_FILE")"
BODY_BYTES=$(stat -c %s "$BODY_FILE")
note "GET $RESOURCE -> 200, $BODY_BYTES bytes"

# --- nginx: the same path and the same body bytes, as a static file -------------------------
# Its own directory, readable by the unprivileged worker processes (nginx started as root runs
# them as nobody, and $TMP is 0700): it holds only the config, the logs and the body.
NG=$(mktemp -d "${TMPDIR:-/tmp}/dh-bench-nginx.XXXXXX")
chmod 755 "$NG"
mkdir -p "$NG/www/api/v1/customers" "$NG/tmp"
install -m 644 "$BODY_FILE" "$NG/www$RESOURCE"
[[ $(stat -c %s "$NG/www$RESOURCE") == "$BODY_BYTES" ]] || die "static file size mismatch"

# Returns 0 when nginx serves the file, 1 when it exited (e.g. the port was taken meanwhile).
start_nginx() {
  local port=$1
  cat >"$NG/nginx.conf" <<EOF
worker_processes auto;
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
    location / { }
  }
}
EOF
  nginx -c "$NG/nginx.conf" -p "$NG" -e "$NG/error.log" -g 'daemon off;' >"$NG/stdout.log" 2>&1 &
  NGINX_PID=$!
  for _ in $(seq 1 50); do
    kill -0 "$NGINX_PID" 2>/dev/null || { wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""; return 1; }
    if [[ $("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$RESOURCE" 2>/dev/null || true) == 200 ]]; then
      return 0
    fi
    sleep 0.1
  done
  stop_nginx
  tail -n 5 "$NG/error.log" "$NG/stdout.log" >&2 || true
  die "nginx runs but does not serve $RESOURCE with 200 within 5 s"
}

NGINX_PORT=""
for _ in 1 2 3; do
  p=$(free_port)
  if start_nginx "$p"; then NGINX_PORT=$p; break; fi
  note "nginx exited at start on port $p; retrying with another port"
done
[[ -n $NGINX_PORT ]] || { tail -n 20 "$NG/error.log" "$NG/stdout.log" >&2 || true; die "could not start nginx"; }
NGX="http://127.0.0.1:$NGINX_PORT"
NGX_BYTES=$("${CURL[@]}" -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $ACCESS_TOKEN" "$NGX$RESOURCE")
[[ $NGX_BYTES == "$BODY_BYTES" ]] || die "nginx serves $NGX_BYTES bytes, deliveryhub $BODY_BYTES"
note "nginx $NGINX_VERSION listening on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID)"

# --- wrk ------------------------------------------------------------------------------------
# The same request (path and Authorization header) goes to both targets; nginx ignores the header.
LUA=$TMP/auth.lua
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ACCESS_TOKEN" >"$LUA"

wrk_args() { # $1 = base URL, $2 = seconds; sets WRK_ARGS
  WRK_ARGS=( wrk "-t$THREADS" "-c$CONNECTIONS" "-d${2}s" --latency -s "$LUA" "$1$RESOURCE" )
}
wrk_cmd() { wrk_args "$@"; echo "${WRK_ARGS[*]}"; }

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

# Server-side check of one deliveryhub run: request lines logged and how many were not 200.
# Then truncates the log (opened in append mode) so disk use stays bounded.
drain_dh_log() {
  local total non200
  total=$(grep -c '"msg":"request"' "$DH_LOG" || true)
  non200=$(grep '"msg":"request"' "$DH_LOG" | grep -vc '"status":200' || true)
  grep -v '"msg":"request"' "$DH_LOG" >>"$DH_KEEP" || true
  : >"$DH_LOG"
  echo "${total:-0} ${non200:-0}"
}
drain_dh_log >/dev/null   # start-up lines and the set-up requests
mv "$DH_KEEP" "$TMP/deliveryhub.startup.log"   # its dev-key warning is expected; count from here on

if (( WARMUP > 0 )); then
  note "warm-up: ${WARMUP}s per target (not recorded)"
  run_wrk "$NGX" "$WARMUP" "$TMP/warmup-nginx.txt"
  run_wrk "$DH" "$WARMUP" "$TMP/warmup-deliveryhub.txt"
  drain_dh_log >/dev/null
fi

declare -a NG_RPS NG_P50 NG_P99 DH_RPS DH_P50 DH_P99 ROWS
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
      read -r logged non200 < <(drain_dh_log)
      server="$logged logged, $non200 non-200"
      DH_RPS+=("$rps"); DH_P50+=("$p50"); DH_P99+=("$p99")
      if (( non200 > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
    else
      NG_RPS+=("$rps"); NG_P50+=("$p50"); NG_P99+=("$p99")
    fi
    if (( non2xx > 0 || errs > 0 )); then BAD_RUNS=$((BAD_RUNS + 1)); fi
    ROWS+=("| $i | $target | $rps | $p50 | $p99 | $reqs | $non2xx | $errs | $server |")
  done
done

median() { # $1 = printf format, then the values; an even count gives the mean of the middle two
  local fmt=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v f="$fmt\n" '{v[NR] = $1} END {
    if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

MED_NG_RPS=$(median %.0f "${NG_RPS[@]}"); MED_NG_P50=$(median %.3f "${NG_P50[@]}"); MED_NG_P99=$(median %.3f "${NG_P99[@]}")
MED_DH_RPS=$(median %.0f "${DH_RPS[@]}"); MED_DH_P50=$(median %.3f "${DH_P50[@]}"); MED_DH_P99=$(median %.3f "${DH_P99[@]}")
RATIO=$(awk -v a="$MED_DH_RPS" -v b="$MED_NG_RPS" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
RATIO_PCT=$(awk -v a="$MED_DH_RPS" -v b="$MED_NG_RPS" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
(( BAD_RUNS == 0 )) || WARNINGS+=("$BAD_RUNS run(s) had non-2xx responses, socket errors or non-200 access-log lines: see the table")

# --- stop both servers ----------------------------------------------------------------------
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
(( ${OTHER_LINES:-0} == 0 )) || WARNINGS+=("deliveryhub logged $OTHER_LINES warning/error line(s) during the runs or the shutdown")

# --- report ---------------------------------------------------------------------------------
q() { printf '%q ' "$@" | sed 's/ $//'; }
SCRIPT_CMD="RUNS=$RUNS DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS WARMUP=$WARMUP"
[[ -n $SERVER_ARGS ]] && SCRIPT_CMD+=" SERVER_ARGS=$(q "$SERVER_ARGS")"
SCRIPT_CMD+=" bash bench/customers_get.sh${ARGV_DISPLAY:+ $ARGV_DISPLAY}"
DISPLAY_DH_CMD=$(q "${DH_CMD[@]}" | sed "s|$TMP|\$TMP|g; s|$REPO_ROOT/||g")
DISPLAY_WRK_NG=$(wrk_cmd "$NGX" "$DURATION" | sed "s|$TMP|\$TMP|g")
DISPLAY_WRK_DH=$(wrk_cmd "$DH" "$DURATION" | sed "s|$TMP|\$TMP|g")
BIN_DISPLAY=${BIN#"$REPO_ROOT"/}

REPORT=$TMP/report.md
{
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — GET /api/v1/customers/{id} (build_type $BUILD_TYPE, commit $GIT_COMMIT)"
  echo
  for w in "${WARNINGS[@]}"; do echo "> **Warning:** $w"; echo; done
  echo "- Machine: $NPROC CPUs, $CPU_MODEL, $KERNEL; load average before $LOAD_BEFORE, after $LOAD_AFTER"
  echo "- Binary: \`$BIN_DISPLAY\` — version $APP_VERSION, git_commit $GIT_COMMIT, build_type $BUILD_TYPE (from GET /version)"
  echo "- Tools: $WRK_VERSION, nginx $NGINX_VERSION (worker_processes auto, access_log off, sendfile on, keepalive_requests 1000000)"
  echo "- Command: \`$SCRIPT_CMD\`"
  echo "- Server: \`$DISPLAY_DH_CMD\` (cwd \$TMP; default io/worker threads unless SERVER_ARGS says otherwise)"
  echo "- Access log ON: log level info, one JSON line per request on stdout, written to a file in \$TMP (truncated between runs)"
  echo "- wrk (nginx): \`$DISPLAY_WRK_NG\`"
  echo "- wrk (deliveryhub): \`$DISPLAY_WRK_DH\`"
  echo "- Same request line and Authorization header to both; response body $BODY_BYTES bytes from both (nginx serves a copy of the deliveryhub body); SQLite database; runs alternate nginx → deliveryhub; warm-up ${WARMUP}s per target not recorded"
  echo "- deliveryhub $DH_STOP; warning/error log lines after start-up: ${OTHER_LINES:-0}"
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
} >"$REPORT"

echo
cat "$REPORT"
if [[ $RESULTS != "-" ]]; then
  cat "$REPORT" >>"$RESULTS"
  note "appended to $RESULTS"
fi

[[ $DH_EXIT == 0 ]] || exit 1
