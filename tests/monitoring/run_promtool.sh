#!/usr/bin/env bash
# The alerts of k8s/components/monitoring/alerts.yaml (a PrometheusRule) checked by Prometheus's
# own promtool: `promtool check rules` on its groups, then `promtool test rules` with
# alerts_test.yaml (and alerts_test_15s.yaml, evaluated every 15 s) — every alert fires when it should and stays silent when it should not.
# promtool comes with Debian's prometheus package (scripts/install-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v promtool >/dev/null || { echo "run_promtool: promtool not found (apt-get install prometheus)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The rule file promtool reads is the PrometheusRule's spec (its `groups`), unchanged.
python3 - "$root/k8s/components/monitoring/alerts.yaml" "$work/alerts.rules.yaml" <<'PY'
import sys, yaml
with open(sys.argv[1]) as f:
    rule = yaml.safe_load(f)
assert rule["kind"] == "PrometheusRule", rule["kind"]
with open(sys.argv[2], "w") as f:
    yaml.safe_dump(rule["spec"], f, sort_keys=False)
PY
cp "$here/alerts_test.yaml" "$here/alerts_test_15s.yaml" "$work/"
# Every alert of the rule file must have a test: fires, and stays silent.
python3 - "$work/alerts.rules.yaml" "$work/alerts_test.yaml" <<'PY'
import sys, yaml
alerts = {r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r}
tests = yaml.safe_load(open(sys.argv[2]))["tests"]
fired, silent = set(), set()
for t in tests:
    for case in t.get("alert_rule_test", []):
        (fired if case.get("exp_alerts") else silent).add(case["alertname"])
missing = sorted((alerts - fired) | (alerts - silent))
if missing:
    sys.exit(f"alerts without a firing and a silent test case: {missing}")
print(f"{len(alerts)} alerts, each with a firing and a silent case")
PY
cd "$work"
promtool check rules alerts.rules.yaml
promtool test rules alerts_test.yaml alerts_test_15s.yaml
