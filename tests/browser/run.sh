#!/usr/bin/env bash
# The console's browser journeys (tests/browser/*.test.mjs) against one shape of deliveryhub,
# everything on 127.0.0.1, state in a temporary folder removed afterwards.
#   tests/browser/run.sh single BINARY   one process, SQLite
#   tests/browser/run.sh split BINARY    scripts/split.sh: five processes, PostgreSQL, RabbitMQ, nginx
# It starts the shape from a copy of BINARY, exports BASE_URL, OPERATOR_EMAIL and
# OPERATOR_PASSWORD (the bootstrap operator it creates), runs Node's test runner over the test
# files one file at a time under an overall timeout, and stops the shape on exit, whatever happens.
# It installs nothing but the locked test dependencies (`npm ci` here when node_modules is missing);
# the browser is Debian's Chromium (CHROMIUM, default /usr/bin/chromium), never a download.
#
# Environment:
#   TIMEOUT=600        seconds for the whole test run (start-up not included)
#   SCREENSHOT_DIR     save PNGs of the main pages there
#   CONSOLE_DIR        DEVELOPMENT ONLY: the tests serve /app/ from this folder (e.g. web/console)
#                      instead of the console embedded in BINARY, to try console fixes without a
#                      rebuild. CI runs without it.
#   KEEP_TMP=1         keep the temporary folder (logs) after the run
#   TEST_FILES         the test files to run (default: every tests/browser/*.test.mjs)
set -euo pipefail

usage() { echo "usage: $0 single|split BINARY" >&2; exit 2; }
shape=${1:-}
bin=${2:-}
[[ $shape == single || $shape == split ]] || usage
[[ -n $bin && -x $bin && -f $bin ]] || { echo "browser: no executable binary at '$bin'" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/browser
command -v node >/dev/null || { echo "browser: node is missing" >&2; exit 2; }
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || { echo "browser: no Chromium at ${CHROMIUM:-/usr/bin/chromium}" >&2; exit 2; }

if [[ ! -d $here/node_modules ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi
if [[ -n ${CONSOLE_DIR:-} ]]; then
  CONSOLE_DIR=$(cd "$CONSOLE_DIR" && pwd)
  export CONSOLE_DIR
  echo "browser: DEVELOPMENT MODE: /app/ is served from $CONSOLE_DIR, not from the binary" >&2
fi
if [[ -n ${SCREENSHOT_DIR:-} ]]; then
  mkdir -p "$SCREENSHOT_DIR"
  SCREENSHOT_DIR=$(cd "$SCREENSHOT_DIR" && pwd)
  export SCREENSHOT_DIR
fi

tmp=$(mktemp -d /tmp/dh-browser-run-XXXXXX)
cp "$bin" "$tmp/deliveryhub"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
OPERATOR_EMAIL="operator-$(basename "$tmp" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9')@example.com"
OPERATOR_PASSWORD="Op-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export OPERATOR_EMAIL OPERATOR_PASSWORD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}  # harmless for a release build
server_pid=
started=0

# shellcheck disable=SC2317  # called from the EXIT trap
logs() {
  if [[ $shape == single ]]; then
    [[ -f $tmp/server.log ]] && { echo "--- server.log (last 40 lines)" >&2; tail -40 "$tmp/server.log" >&2; }
  else
    for f in "$tmp"/split/*.log "$tmp"/split/nginx/error.log; do
      [[ -f $f ]] && { echo "--- $f (last 15 lines)" >&2; tail -15 "$f" >&2; }
    done
  fi
  return 0
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [[ $status != 0 && $started == 1 ]] && logs
  if [[ $shape == single && -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  elif [[ $shape == split && -d $tmp/split ]]; then
    bash "$root/scripts/split.sh" stop "$tmp/split" >/dev/null 2>&1 || true
  fi
  if [[ ${KEEP_TMP:-} == 1 ]]; then echo "browser: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
started=1
if [[ $shape == single ]]; then
  (
    cd "$tmp"
    DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=$OPERATOR_EMAIL DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=$OPERATOR_PASSWORD \
      exec "$tmp/deliveryhub" serve --listen "127.0.0.1:$port" --database "sqlite:$tmp/db.sqlite"
  ) >"$tmp/server.log" 2>&1 &
  server_pid=$!
  export BASE_URL="http://127.0.0.1:$port"
  ready=0
  for _ in $(seq 1 240); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/readyz" || true) == 200 ]]; then ready=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.5
  done
  [[ $ready == 1 ]] || { echo "browser: the server did not become ready at $BASE_URL/readyz" >&2; exit 1; }
else
  out=$(DELIVERYHUB_BIN="$tmp/deliveryhub" GATEWAY_PORT=$port \
        DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=$OPERATOR_EMAIL DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=$OPERATOR_PASSWORD \
        timeout 300 bash "$root/scripts/split.sh" start "$tmp/split") || { echo "browser: split.sh start failed" >&2; exit 1; }
  BASE_URL=$(printf '%s\n' "$out" | tail -1)
  [[ $BASE_URL == http://127.0.0.1:* ]] || { echo "browser: split.sh printed no gateway URL: $out" >&2; exit 1; }
  export BASE_URL
  for _ in $(seq 1 60); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/app/" || true) == 200 ]] && break
    sleep 0.5
  done
fi
echo "browser: $shape shape ready at $BASE_URL after $((SECONDS - t0)) s" >&2

cd "$root"
t1=$SECONDS
if [[ -n ${TEST_FILES:-} ]]; then read -ra files <<< "$TEST_FILES"; else files=(tests/browser/*.test.mjs); fi
rc=0
timeout --kill-after=15 "${TIMEOUT:-600}" node --test --test-concurrency=1 "${files[@]}" || rc=$?
[[ $rc == 124 || $rc == 137 ]] && echo "browser: the tests ran past ${TIMEOUT:-600} s" >&2
echo "browser: $shape: tests took $((SECONDS - t1)) s (start-up $((t1 - t0)) s), exit $rc" >&2
exit "$rc"
