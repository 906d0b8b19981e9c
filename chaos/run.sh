#!/usr/bin/env bash
# One chaos experiment, or all of them, in the split shape under load (chaos/README.md).
#
#   chaos/run.sh EXPERIMENT|all|list BINARY
#
# Starts the split shape (scripts/split.sh) and a local Prometheus with the alert rules, runs
# Locust's users (load/locustfile.py, USERS of chaos/experiments.py) through load/run.sh, injects
# the experiment's fault (chaos/inject.py) WARMUP_S into the load, and judges it afterwards
# (chaos/verify.py): errors and latency during, time back to steady state, every acknowledged
# order accounted for, the invariant checker, the alerts. Writes OUT/result.json and the plot
# docs/chaos/EXPERIMENT.png; exits 1 if the hypothesis did not hold. `all` runs each in turn and
# then writes the table (chaos/report.py). Environment: OUT (load/out/chaos-EXPERIMENT-STAMP),
# PLOT_DIR (docs/chaos), USERS (the experiment file's), and load/run.sh's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
what=${1:?usage: chaos/run.sh EXPERIMENT|all|list BINARY}
PY=${PYTHON:-/usr/bin/python3}
names=$(cd "$here" && "$PY" -c 'from experiments import EXPERIMENTS; print(" ".join(e.name for e in EXPERIMENTS))')
if [[ $what == list ]]; then tr ' ' '\n' <<< "$names"; exit 0; fi
bin=${2:?usage: chaos/run.sh EXPERIMENT|all|list BINARY}
[[ -x $bin ]] || { echo "chaos: no binary at $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
plot_dir=${PLOT_DIR:-$root/docs/chaos}

if [[ $what == all ]]; then
  failed=()
  results=()
  for name in $names; do
    o=$root/load/out/chaos-$name-$(date -u +%Y%m%d-%H%M%S)
    OUT=$o bash "$0" "$name" "$bin" || failed+=("$name")
    results+=("$o/result.json")
  done
  "$PY" "$here/report.py" "${results[@]}" > "$root/load/out/chaos-table.md" || true
  cat "$root/load/out/chaos-table.md"
  (( ${#failed[@]} == 0 )) || { echo "chaos: hypotheses that did not hold: ${failed[*]}" >&2; exit 1; }
  exit 0
fi

[[ " $names " == *" $what "* ]] || { echo "chaos: no experiment $what (chaos/run.sh list)" >&2; exit 2; }
read -r users ramp seconds < <(cd "$here" && "$PY" -c "
from experiments import BY_NAME, USERS, RAMP_S, load_seconds
print(USERS, RAMP_S, load_seconds(BY_NAME['$what']))")
out=${OUT:-$root/load/out/chaos-$what-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
stop_proxy() { [[ -f $out/faultproxy.pid ]] && kill "$(cat "$out/faultproxy.pid")" 2>/dev/null || true; }
trap stop_proxy EXIT
echo "chaos: $what — ${USERS:-$users} users, ${seconds} s of load; output $out" >&2
USERS=${USERS:-$users}
OUT=$out PLOT=$out/load.png RAMP=$ramp SETTLE=${SETTLE:-5} PROMETHEUS=1 \
  SETUP_HOOK="$PY $(printf %q "$here/inject.py") setup $what" \
  FAULT_HOOK="$PY $(printf %q "$here/inject.py") fault $what" \
  VERIFY_HOOK="$PY $(printf %q "$here/verify.py") $what --plot $(printf %q "$plot_dir/$what.png")" \
  bash "$root/load/run.sh" split "$bin" "$USERS" "$seconds"
