#!/usr/bin/env bash
# The split shape on one machine: five deliveryhub processes (one module each), PostgreSQL,
# RabbitMQ and nginx in front, everything on 127.0.0.1, state in DIR.
#   scripts/split.sh start [DIR]   prints the gateway URL once every module is ready
#   scripts/split.sh stop [DIR]    stops everything started, by PID, and removes DIR
#   scripts/split.sh kill DIR MODULE [SIGNAL]   stops one module's process (TERM; KILL for a crash)
#   scripts/split.sh revive DIR MODULE          starts it again, as before, and waits until ready
# Environment: GATEWAY_PORT (8080), TLS_PORT (none: no TLS; set, nginx also serves HTTPS there
# with TLS_CERT/TLS_KEY, or a self-signed certificate for localhost it makes in DIR/nginx/tls.crt),
# DELIVERYHUB_BIN (the release build), DELIVERYHUB_DATABASE
# and DELIVERYHUB_BUS (use these instead of starting PostgreSQL / RabbitMQ), RATE (req/s per
# client at the gateway, 200), BURST (requests over the rate let through at once, 400),
# BUS_NAMESPACE (--bus-namespace, so several split shapes can share one broker), SPLIT_EXTRA_ARGS
# (more flags for every process, split on spaces), plus DELIVERYHUB_BOOTSTRAP_OPERATOR_* for the
# customers process.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?usage: $0 start|stop [DIR]}
dir=${2:-/tmp/deliveryhub-split}
# The modules, in dependency order, are the binary's (`deliveryhub modules`); saved in DIR/modules.
modules=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts MODULE's process from its saved command line, logging to DIR/MODULE.log.
launch() {
  local m=$1 cmdline=()
  mapfile -d '' cmdline < "$dir/$m.cmd"
  (cd "$dir/$m" && exec "${cmdline[@]}" >>"$dir/$m.log" 2>&1) &
  echo $! > "$dir/$m.pid"
}

wait_ready() {
  local m=$1
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$(cat "$dir/$m.port")/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$dir/$m.pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "split: $m did not become ready:" >&2; tail -5 "$dir/$m.log" >&2
  return 1
}

stop_all() {
  local reversed=()
  [[ -f $dir/modules ]] && mapfile -t reversed < <(tac "$dir/modules")
  for m in "${reversed[@]}"; do
    [[ -f $dir/$m.pid ]] && kill -TERM "$(cat "$dir/$m.pid")" 2>/dev/null || true
  done
  for m in "${reversed[@]}"; do
    if [[ -f $dir/$m.pid ]]; then
      pid=$(cat "$dir/$m.pid")
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  [[ -f $dir/nginx/nginx.pid ]] && kill -QUIT "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null || true
  [[ -d $dir/rabbitmq ]] && "$root/scripts/local-rabbitmq.sh" stop "$dir/rabbitmq" || true
  [[ -f $dir/postgres.dir ]] && "$root/scripts/local-postgres.sh" stop "$(cat "$dir/postgres.dir")" || true
}

case $cmd in
  stop)
    stop_all
    rm -rf "$dir"
    ;;
  start)
    [[ -e $dir ]] && { echo "split: $dir exists; stop it first ($0 stop $dir)" >&2; exit 1; }
    mkdir -p "$dir/nginx"
    trap 'echo "split: start failed; stopping what started" >&2; stop_all' ERR
    bin=${DELIVERYHUB_BIN:-$root/build/release/src/app/deliveryhub}
    [[ -x $bin ]] || { echo "split: no binary at $bin (cmake --build --preset release)" >&2; exit 1; }
    "$bin" modules > "$dir/modules"
    mapfile -t modules < "$dir/modules"
    # The module that issues tokens: started first, the others fetch its keys at start-up.
    issuer=$("$bin" modules --json | python3 -c \
      'import json, sys; print(next(m["name"] for m in json.load(sys.stdin)["modules"] if m["issues_tokens"]))')
    database=${DELIVERYHUB_DATABASE:-}
    if [[ -z $database ]]; then
      # Outside DIR: the postgres user must reach its data folder, whatever DIR's parents allow.
      pg_dir=$(mktemp -d /tmp/deliveryhub-split-pg-XXXXXX)
      echo "$pg_dir" > "$dir/postgres.dir"
      database=$("$root/scripts/local-postgres.sh" start "$pg_dir")
    fi
    bus=${DELIVERYHUB_BUS:-$("$root/scripts/local-rabbitmq.sh" start "$dir/rabbitmq")}
    echo "$database" > "$dir/database"   # for tools run beside the shape (invariants, chaos/)
    echo "$bus" > "$dir/bus"
    # One machine client per calling module, acting for that module only (ADR 0022): a module's
    # secret opens only the internal routes that module calls. Customers lists them all.
    declare -A secret
    clients=()
    for m in "${modules[@]}"; do
      [[ $m == "$issuer" ]] && continue
      secret[$m]=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
      clients+=(--client "svc-$m:${secret[$m]}:service:$m")
    done
    declare -A port
    for m in "${modules[@]}"; do port[$m]=$(free_port); done
    for m in "${modules[@]}"; do
      args=(serve --modules "$m" --listen "127.0.0.1:${port[$m]}" --database "$database" --bus "$bus"
            --trusted-proxy 127.0.0.1)
      [[ $m == "$issuer" ]] || args+=(--service-client "svc-$m:${secret[$m]}")
      [[ -n ${BUS_NAMESPACE:-} ]] && args+=(--bus-namespace "$BUS_NAMESPACE")
      read -ra extra <<< "${SPLIT_EXTRA_ARGS:-}"
      args+=("${extra[@]}")
      [[ $m == "$issuer" ]] && args+=("${clients[@]}")
      for other in "${modules[@]}"; do
        [[ $other == "$m" ]] || args+=(--remote "$other=http://127.0.0.1:${port[$other]}")
      done
      mkdir -p "$dir/$m"
      printf '%s\0' "$bin" "${args[@]}" > "$dir/$m.cmd"
      echo "${port[$m]}" > "$dir/$m.port"
      launch "$m"
      if [[ $m == "$issuer" ]]; then wait_ready "$m"; fi
    done
    for m in "${modules[@]}"; do wait_ready "$m"; done
    gateway=${GATEWAY_PORT:-8080}
    substitutions=(-e "s|@PREFIX@|$dir/nginx|g" -e "s|@GATEWAY_PORT@|$gateway|g" -e "s|@RATE@|${RATE:-200}|g"
                   -e "s|@BURST@|${BURST:-400}|g")
    for m in "${modules[@]}"; do substitutions+=(-e "s|@${m^^}_PORT@|${port[$m]}|g"); done
    render() { sed "${substitutions[@]}" "$1"; }
    render "$root/config/nginx/deliveryhub-split.conf.template" > "$dir/nginx/nginx.conf"
    render "$root/config/nginx/deliveryhub-routes.conf.template" > "$dir/nginx/routes.conf"
    : > "$dir/nginx/tls.conf"
    if [[ -n ${TLS_PORT:-} ]]; then
      cert=${TLS_CERT:-$dir/nginx/tls.crt} key=${TLS_KEY:-$dir/nginx/tls.key}
      if [[ -z ${TLS_CERT:-} ]]; then  # a self-signed certificate for localhost, for trying TLS out
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
          -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$key" -out "$cert" 2>/dev/null
      fi
      cat > "$dir/nginx/tls.conf" <<TLS
server {
  listen 127.0.0.1:$TLS_PORT ssl;
  ssl_certificate $cert;
  ssl_certificate_key $key;
  ssl_protocols TLSv1.2 TLSv1.3;
  include $dir/nginx/routes.conf;
}
TLS
    fi
    nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -e "$dir/nginx/error.log" -g 'daemon on;'
    for m in "${modules[@]}"; do echo "$m ${port[$m]}" >> "$dir/ports"; done
    trap - ERR
    echo "http://127.0.0.1:$gateway"
    ;;
  kill)
    m=${3:?usage: $0 kill DIR MODULE [SIGNAL]}
    pid=$(cat "$dir/$m.pid")
    kill "-${4:-TERM}" "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    echo "split: $m (pid $pid) did not stop" >&2; exit 1
    ;;
  revive)
    m=${3:?usage: $0 revive DIR MODULE}
    launch "$m"
    wait_ready "$m"
    ;;
  *) echo "usage: $0 start|stop|kill|revive [DIR] [MODULE]" >&2; exit 2 ;;
esac
