#!/usr/bin/env bash
# A throw-away Prometheus (Debian's 2.42) on 127.0.0.1 that scrapes deliveryhub processes every
# second, with the labels the Kubernetes ServiceMonitor gives them (namespace, service,
# container), so the dashboard's queries and the alert rules read the same series here.
#   scripts/local-prometheus.sh start DIR TARGET...   TARGET is SERVICE=HOST:PORT (a process's
#       /metrics); prints the Prometheus URL on stdout once it has scraped every target
#   scripts/local-prometheus.sh split DIR SPLIT_DIR   the same for every process of a shape that
#       scripts/split.sh started in SPLIT_DIR (its `ports` file)
#   scripts/local-prometheus.sh stop DIR              stops it (by the PID in DIR), then rm -rf DIR
# The alert rules of k8s/components/monitoring/alerts.yaml are loaded too (ALERTS series).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?usage: $0 start|split|stop DIR ...}
dir=${2:?usage: $0 start|split|stop DIR ...}
command -v prometheus >/dev/null || { echo "local-prometheus: no prometheus (apt-get install prometheus)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  local targets=("$@")
  (( ${#targets[@]} )) || { echo "local-prometheus: no targets" >&2; exit 2; }
  [[ -e $dir ]] && { echo "local-prometheus: $dir exists; stop it first" >&2; exit 1; }
  mkdir -p "$dir/data"
  python3 - "$root/k8s/components/monitoring/alerts.yaml" "$dir/alerts.rules.yaml" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))["spec"]
yaml.safe_dump(spec, open(sys.argv[2], "w"), sort_keys=False)
PY
  {
    echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
    echo "rule_files: [alerts.rules.yaml]"
    echo "scrape_configs:"
    echo "  - job_name: deliveryhub"
    echo "    static_configs:"
    for target in "${targets[@]}"; do
      echo "      - targets: ['${target#*=}']"
      echo "        labels: {namespace: deliveryhub, service: '${target%%=*}', container: deliveryhub}"
    done
  } > "$dir/prometheus.yml"
  local port
  port=$(free_port)
  (cd "$dir" && exec prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=1d >"$dir/prometheus.log" 2>&1) &
  echo $! > "$dir/prometheus.pid"
  echo "$port" > "$dir/port"
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    local up
    up=$(curl -fsS "$url/api/v1/query?query=count(up%3D%3D1)" 2>/dev/null | python3 -c \
      'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' 2>/dev/null || echo 0)
    [[ $up == "${#targets[@]}" ]] && { echo "$url"; return 0; }
    sleep 0.2
  done
  echo "local-prometheus: not every target was scraped within 30 s; see $dir/prometheus.log" >&2
  tail -20 "$dir/prometheus.log" >&2
  exit 1
}

case $cmd in
  start) shift 2; start "$@" ;;
  split)
    split_dir=${3:?usage: $0 split DIR SPLIT_DIR}
    targets=()
    while read -r module port; do targets+=("$module=127.0.0.1:$port"); done < "$split_dir/ports"
    start "${targets[@]}"
    ;;
  stop)
    if [[ -f $dir/prometheus.pid ]]; then
      pid=$(cat "$dir/prometheus.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|split|stop DIR ..." >&2; exit 2 ;;
esac
