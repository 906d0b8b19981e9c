#!/usr/bin/env bash
# A load run against deliveryhub on 127.0.0.1: starts the shape, ramps Locust users up to USERS,
# samples the saga backlog and CPU per process every second, stops everything, plots (load/README.md).
#
#   load/run.sh single|split BINARY [USERS] [DURATION]
#
# USERS (300): Locust users at the end of the ramp. DURATION (240): seconds of load, the ramp
# included; keep it ≤ 300. Environment:
#   RAMP (3/4 of DURATION): seconds to reach USERS (spawn rate = USERS / RAMP users/s)
#   OUT (load/out/SHAPE-YYYYmmdd-HHMMSS): Locust's CSVs and HTML, the samples, logs' summary
#   PLOT (docs/load/SHAPE.png; - for none): the PNG
#   SETTLE (10): seconds the sampler goes on after the load stops (the backlog draining)
#   SERVER_ARGS: more deliveryhub flags (every process in split)
#   RATE, BURST (1000000 each): the split gateway's per-client limit_req (split.sh's defaults,
#     200 r/s and 400, would answer the one load-generator address with 429s)
#   OPERATOR_EMAIL, OPERATOR_PASSWORD: the bootstrap operator made for the run
#   LOAD_* : the locustfile's knobs (LOAD_WEIGHTS, LOAD_COURIERS, … see load/locustfile.py)
#   KEEP_TMP=1: keep the temp folder (database, full server logs)
#   PROMETHEUS=1: also a local Prometheus scraping every process with the alert rules loaded
#     (scripts/local-prometheus.sh), kept in OUT/prometheus.url's run only
# Hooks (chaos/ uses them), each a command line run with LOAD_SHAPE, LOAD_URL, LOAD_OUT, LOAD_TMP,
# LOAD_T0 (when Locust started, epoch s), SPLIT_DIR (split), DATABASE_URL and PROMETHEUS_URL set:
#   SETUP_HOOK   once the shape is ready, before Locust starts (a failure ends the run)
#   FAULT_HOOK   in the background while Locust runs (its exit status is reported)
#   VERIFY_HOOK  after the load and the sampler stop, before the shape stops; its exit status
#                becomes the run's
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shape=${1:?usage: load/run.sh single|split BINARY [USERS] [DURATION]}
bin=${2:?usage: load/run.sh single|split BINARY [USERS] [DURATION]}
users=${3:-300}
duration=${4:-240}
case $shape in single|split) ;; *) echo "run: SHAPE is single or split" >&2; exit 2 ;; esac
[[ -x $bin ]] || { echo "run: no binary at $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
(( duration <= 300 )) || echo "run: warning: DURATION $duration s is over the 5 minutes a run should take" >&2
ramp=${RAMP:-$(( duration * 3 / 4 ))}
(( ramp >= 1 )) || ramp=1
spawn_rate=$(python3 -c "print(round($users / $ramp, 3))")
settle=${SETTLE:-10}
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT:-$root/load/out/$shape-$stamp}
plot=${PLOT:-$root/docs/load/$shape.png}
LOCUST=${LOCUST:-/usr/bin/locust}
PY=${PYTHON:-/usr/bin/python3}   # Debian's python3-locust and python3-matplotlib live there
export OPERATOR_EMAIL=${OPERATOR_EMAIL:-load-ops@example.com}
export OPERATOR_PASSWORD=${OPERATOR_PASSWORD:-load operator password}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/deliveryhub-load-XXXXXX)
note() { echo "run: $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

server_pid="" split_dir="" locust_pid="" sampler_pid="" server_exit="" fault_pid="" prometheus_dir=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $locust_pid ]]; then kill -INT "$locust_pid" 2>/dev/null || true; fi
  if [[ -n $sampler_pid ]]; then kill -TERM "$sampler_pid" 2>/dev/null || true; fi
  if [[ -n $fault_pid ]]; then kill -TERM "$fault_pid" 2>/dev/null || true; fi
  if [[ -n $prometheus_dir ]]; then bash "$root/scripts/local-prometheus.sh" stop "$prometheus_dir" >/dev/null 2>&1 || true; fi
  stop_server
  if [[ -n $locust_pid ]]; then sleep 1; kill -KILL "$locust_pid" 2>/dev/null || true; fi
  if [[ ${KEEP_TMP:-} == 1 ]]; then note "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null && server_exit=0 || server_exit=$?
    server_pid=""
  fi
  if [[ -n $split_dir ]]; then
    bash "$root/scripts/split.sh" stop "$split_dir" >/dev/null 2>&1 || true
    split_dir=""
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2206
extra=( ${SERVER_ARGS:-} )
samples=( )
logs=( )
if [[ $shape == single ]]; then
  port=$(free_port)
  # One client address (127.0.0.1) opens a connection per Locust user: lift the per-address limits.
  server_cmd=( "$bin" serve --listen "127.0.0.1:$port" --database "sqlite:$tmp/db.sqlite"
               --registrations-per-address 100000 --max-connections-per-address 0 --max-connections 4096
               "${extra[@]}" )
  # cwd = $tmp: the development signing key the server generates lands there.
  ( cd "$tmp" && DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=$OPERATOR_EMAIL \
      DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=$OPERATOR_PASSWORD exec "${server_cmd[@]}" >"$tmp/server.log" 2>&1 ) &
  server_pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null --max-time 2 "$url/readyz" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { tail -20 "$tmp/server.log" >&2; note "the server exited"; exit 1; }
    sleep 0.1
  done
  curl -fsS -o /dev/null --max-time 2 "$url/readyz" || { note "the server is not ready after 30 s"; exit 1; }
  samples+=( --proc "deliveryhub=$server_pid" --metrics "$url/metrics" )
  logs+=( "deliveryhub=$tmp/server.log" )
  server_display="$(printf '%q ' "${server_cmd[@]}" | sed "s|$tmp|\$TMP|g")"
else
  split_dir=$tmp/split
  gateway_port=$(free_port)
  url=$(DELIVERYHUB_BIN=$bin GATEWAY_PORT=$gateway_port RATE=${RATE:-1000000} BURST=${BURST:-1000000} \
        DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=$OPERATOR_EMAIL DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=$OPERATOR_PASSWORD \
        SPLIT_EXTRA_ARGS="--registrations-per-address 100000 ${SERVER_ARGS:-}" \
        timeout 180 bash "$root/scripts/split.sh" start "$split_dir" | tail -1)
  [[ $url == http://* ]] || { note "split.sh start gave no gateway URL"; exit 1; }
  mapfile -t modules < "$split_dir/modules"
  for m in "${modules[@]}"; do
    samples+=( --pidfile "$m=$split_dir/$m.pid" )  # a pidfile: a module killed and revived is followed
    logs+=( "$m=$split_dir/$m.log" )
  done
  samples+=( --tree "nginx=$(cat "$split_dir/nginx/nginx.pid")" --metrics "http://127.0.0.1:$(cat "$split_dir/orders.port")/metrics" )
  pg_dir=$(cat "$split_dir/postgres.dir" 2>/dev/null || true)
  [[ -n $pg_dir && -f $pg_dir/data/postmaster.pid ]] && samples+=( --tree "postgres=$(head -1 "$pg_dir/data/postmaster.pid")" )
  [[ -f $split_dir/rabbitmq/pid ]] && samples+=( --tree "rabbitmq=$(cat "$split_dir/rabbitmq/pid")" )
  logs+=( "gateway=$split_dir/nginx/access.log" )
  server_display="RATE=${RATE:-1000000} BURST=${BURST:-1000000} SPLIT_EXTRA_ARGS=\"--registrations-per-address 100000 ${SERVER_ARGS:-}\" bash scripts/split.sh start \$TMP/split"
fi
note "$shape shape ready at $url"
export LOAD_SHAPE=$shape LOAD_URL=$url LOAD_OUT=$out LOAD_TMP=$tmp SPLIT_DIR=$split_dir
if [[ $shape == split ]]; then DATABASE_URL=$(cat "$split_dir/database"); else DATABASE_URL=sqlite:$tmp/db.sqlite; fi
export DATABASE_URL PROMETHEUS_URL=""
if [[ -n ${SETUP_HOOK:-} ]]; then
  bash -c "$SETUP_HOOK" || { note "SETUP_HOOK failed"; exit 1; }
fi
if [[ ${PROMETHEUS:-} == 1 ]]; then
  prometheus_dir=$tmp/prometheus
  if [[ $shape == split ]]; then
    PROMETHEUS_URL=$(bash "$root/scripts/local-prometheus.sh" split "$prometheus_dir" "$split_dir")
  else
    PROMETHEUS_URL=$(bash "$root/scripts/local-prometheus.sh" start "$prometheus_dir" "deliveryhub=127.0.0.1:$port")
  fi
  note "prometheus at $PROMETHEUS_URL"
fi
version_url=$url/version
[[ $shape == split ]] && version_url="http://127.0.0.1:$(cat "$split_dir/orders.port")/version"
version=$(curl -fsS --max-time 5 "$version_url" 2>/dev/null || echo '{}')

locust_cmd=( "$LOCUST" --headless -f "$root/load/locustfile.py" --host "$url" -u "$users" -r "$spawn_rate"
             -t "${duration}s" --csv "$out/locust" --csv-full-history --html "$out/report.html"
             --only-summary --loglevel INFO --logfile "$out/locust.log" )
started=$(date +%s)
export LOAD_T0=$started
LOAD_ORDER_LOG=$out/orders.csv LOAD_REQUEST_LOG=$out/requests.csv LOAD_LAG_LOG=$out/lag.csv LOAD_ERROR_LOG=$out/errors.jsonl LOAD_OUTCOMES=$out/outcomes.json \
  timeout --signal=INT --kill-after=30 $(( duration + 90 )) "${locust_cmd[@]}" >"$out/locust.out" 2>&1 &
locust_pid=$!
"$PY" "$root/load/sample.py" --url "$url" --out "$out/samples.csv" --duration $(( duration + 120 + settle )) \
  "${samples[@]}" --tree "locust=$locust_pid" >"$out/sampler.log" 2>&1 &
sampler_pid=$!
if [[ -n ${FAULT_HOOK:-} ]]; then
  bash -c "$FAULT_HOOK" > "$out/fault.log" 2>&1 &
  fault_pid=$!
fi
note "locust: ${users} users at ${spawn_rate}/s for ${duration}s (pid $locust_pid); sampler pid $sampler_pid; output $out"
locust_rc=0
wait "$locust_pid" || locust_rc=$?
locust_pid=""
note "locust exited $locust_rc after $(( $(date +%s) - started )) s; sampling $settle s more"
sleep "$settle"
kill -TERM "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
fault_rc=n/a
if [[ -n $fault_pid ]]; then
  fault_rc=0; wait "$fault_pid" || fault_rc=$?
  fault_pid=""
  note "FAULT_HOOK exited $fault_rc"
fi
verify_rc=0
if [[ -n ${VERIFY_HOOK:-} ]]; then
  FAULT_RC=$fault_rc bash -c "$VERIFY_HOOK" || verify_rc=$?
  note "VERIFY_HOOK exited $verify_rc"
fi

"$PY" "$root/load/logscan.py" "${logs[@]}" > "$out/server-logs.json" || true
stop_server
cp "$root/load/locustfile.py" "$out/" 2>/dev/null || true

plot_args=( --history "$out/locust_stats_history.csv" --samples "$out/samples.csv" --requests "$out/requests.csv"
            --lag "$out/lag.csv"
            --table "$out/table.md" --title "deliveryhub $shape shape, $(basename "$bin"): ramp to $users users over ${ramp}s, ${duration}s" )
if [[ $plot == - ]]; then plot_args+=( --out "$out/plot.png" ); else plot_args+=( --out "$plot" ); fi
"$PY" "$root/load/plot.py" "${plot_args[@]}" > "$out/plot.log" 2>&1 || { cat "$out/plot.log" >&2; note "plot failed"; }

{
  echo "# $shape — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r); load average after $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Binary: \`$bin\` — GET /version: \`$version\`"
  echo "- Command: \`RAMP=$ramp SETTLE=$settle${SERVER_ARGS:+ SERVER_ARGS=\"$SERVER_ARGS\"} bash load/run.sh $shape $bin $users $duration\`"
  echo "- Server: \`$server_display\`"
  echo "- Locust: \`locust --headless -f load/locustfile.py --host $url -u $users -r $spawn_rate -t ${duration}s --csv … --csv-full-history --html …\` (exit $locust_rc)"
  echo "- Server exit after SIGTERM: ${server_exit:-n/a (split: split.sh stop)}"
  echo
  cat "$out/table.md" 2>/dev/null || echo "(no table)"
  echo
  "$PY" - "$out/outcomes.json" <<'PY' 2>/dev/null || echo "Outcomes: none"
import json, sys
d = json.load(open(sys.argv[1]))
print(f"Outcomes: `{json.dumps(d['outcomes'], separators=(',', ':'))}`; the saga as customers saw it (s): "
      f"`{json.dumps(d['saga_seen_seconds'], separators=(',', ':'))}`")
PY
} > "$out/summary.md"
cat "$out/summary.md"
(( verify_rc == 0 )) || { note "verification failed ($verify_rc); outputs in $out"; exit "$verify_rc"; }
note "outputs in $out; plot $( [[ $plot == - ]] && echo "$out/plot.png" || echo "$plot" )"
