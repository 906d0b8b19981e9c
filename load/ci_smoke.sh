#!/usr/bin/env bash
# The load test's smoke run for CI: one process on SQLite, USERS (20) Locust users for DURATION
# (60) seconds, about 65 s in all. Fails (exit 1) when the error ratio is over MAX_ERROR_PCT
# (1 %), the p95 over MAX_P95_MS (1000 ms) or no order was confirmed — limits far outside this
# machine's noise: it catches a broken flow or a collapse, not a regression of a few percent.
#
#   load/ci_smoke.sh BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: load/ci_smoke.sh BINARY}
users=${USERS:-20}
duration=${DURATION:-60}
max_error_pct=${MAX_ERROR_PCT:-1}
max_p95_ms=${MAX_P95_MS:-1000}
out=${OUT:-$(mktemp -d /tmp/deliveryhub-load-smoke-XXXXXX)}
started=$(date +%s)
# Weights so that 20 users include couriers and an operator (the default 90,8,2 rounds them away).
rc=0
OUT=$out PLOT=- RAMP=${RAMP:-10} SETTLE=${SETTLE:-2} LOAD_WEIGHTS=${LOAD_WEIGHTS:-80,15,5} \
  timeout 170 bash "$root/load/run.sh" single "$bin" "$users" "$duration" > "$out/run.out" 2>&1 || rc=$?
if (( rc != 0 )); then
  tail -30 "$out/run.out" >&2
  echo "ci_smoke: load/run.sh failed ($rc); outputs in $out" >&2
  exit 1
fi
/usr/bin/python3 - "$out" "$max_error_pct" "$max_p95_ms" "$(( $(date +%s) - started ))" <<'PY'
import csv, json, sys
out, max_err, max_p95, took = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rows = {r["Name"]: r for r in csv.DictReader(open(f"{out}/locust_stats.csv"))}
agg = rows["Aggregated"]
n, fails = int(agg["Request Count"]), int(agg["Failure Count"])
p95 = float(agg["95%"]) if agg["95%"] not in ("", "N/A") else float("inf")
ratio = fails / n * 100 if n else 100.0
try:
    outcomes = json.load(open(f"{out}/outcomes.json"))["outcomes"]
except (OSError, ValueError, KeyError):
    outcomes = {}
problems = []
if n == 0:
    problems.append("no requests")
if ratio > max_err:
    problems.append(f"error ratio {ratio:.2f} % > {max_err:g} %")
if p95 > max_p95:
    problems.append(f"p95 {p95:.0f} ms > {max_p95:g} ms")
if not outcomes.get("orders_confirmed"):
    problems.append("no order reached confirmed")
print(f"ci_smoke: {n} requests, {fails} failures ({ratio:.2f} %), p95 {p95:.0f} ms, "
      f"orders placed {outcomes.get('orders_placed', 0)}, confirmed {outcomes.get('orders_confirmed', 0)}, "
      f"delivered {outcomes.get('deliveries_delivered', 0)}; {took} s; outputs in {out}")
if problems:
    print("ci_smoke: FAILED: " + "; ".join(problems), file=sys.stderr)
    for name, r in rows.items():
        if int(r["Failure Count"]):
            print(f"  {r['Type']} {name}: {r['Failure Count']} of {r['Request Count']} failed", file=sys.stderr)
    sys.exit(1)
PY
