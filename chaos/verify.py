#!/usr/bin/env python3
"""Judges one chaos experiment after its load (chaos/README.md); load/run.sh's VERIFY_HOOK.

    verify.py EXPERIMENT [--plot PNG]

Reads what the run left in $LOAD_OUT (requests.csv, orders.csv, samples.csv, marks.jsonl) and
asks the shape itself, still running: its database ($DATABASE_URL) and the local Prometheus
($PROMETHEUS_URL). In order:
  1. waits (≤ DRAIN_LIMIT_S) until no saga is unfinished and no outbox holds an undelivered event;
  2. accounts for every order the server acknowledged: each 201 is in the database, settled, and
     settled as its payment says (tok_declined rejected for payment_declined, tok_visa not), each
     200 on cancel is cancelled;
  3. runs the invariant checker (tools/invariants/check_invariants.py);
  4. errors and latency before, during and after the fault, from Locust's per-request log, and
     the time back to steady state after the fault: the end of the last 5-s window from the
     fault's start on with a failure ratio ≥ 0.1 % or a p95 over max(300 ms, 2 × before); the
     blast radius: no route outside the experiment's `affected` fails from the fault's start
     to BLAST_TAIL_S after its end;
  5. the alerts' highest states from Prometheus's ALERTS series against the expectation;
writes result.json beside the inputs, the plot, and exits 1 if any check failed.
"""
import argparse
import csv
import importlib.util
import json
import math
import os
import pathlib
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from experiments import BLAST_TAIL_S, BY_NAME, RAMP_S, STEADY_WINDOW_S  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECKER = ROOT / "tools/invariants/check_invariants.py"
DRAIN_LIMIT_S = 180
OBJECTIVE_P95_MS = 300
MAX_ERROR_RATIO = 0.001
STATE_RANK = {"none": 0, "pending": 1, "firing": 2}


def load_checker():
    spec = importlib.util.spec_from_file_location("check_invariants", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_csv(path):
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1))
    return values[k]


def phase_stats(requests, start, end):
    rows = [r for r in requests if start <= r["t"] < end]
    ms = [r["ms"] for r in rows]
    failed = sum(1 for r in rows if not r["ok"])
    return {"from_s": round(start, 1), "to_s": round(end, 1), "requests": len(rows), "failed": failed,
            "error_ratio": round(failed / len(rows), 5) if rows else None,
            "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99),
            "max_ms": max(ms) if ms else None}


def windows(requests, start, end, width):
    out = []
    t = start
    while t < end:
        rows = [r for r in requests if t <= r["t"] < t + width]
        ms = [r["ms"] for r in rows]
        failed = sum(1 for r in rows if not r["ok"])
        out.append({"t": t, "requests": len(rows), "failed": failed, "p50": percentile(ms, 50),
                    "p95": percentile(ms, 95), "p99": percentile(ms, 99)})
        t += width
    return out


def wait_for_quiet(checker, database, limit):
    """Seconds until no saga is unfinished and every outbox is delivered, or None after limit."""
    started = time.time()
    last = None
    while time.time() - started < limit:
        try:
            db = checker.Store(database)
            present = db.tables()
            sagas = db.execute("SELECT COUNT(*) FROM orders_sagas WHERE finished_at IS NULL")[0][0]
            undelivered = sum(db.execute(f"SELECT COUNT(*) FROM {m}_outbox WHERE delivered_at IS NULL")[0][0]
                              for m in checker.MODULES_WITH_OUTBOX if f"{m}_outbox" in present)
            db.db.close()
            last = {"unfinished_sagas": sagas, "undelivered_events": undelivered}
            if sagas == 0 and undelivered == 0:
                return round(time.time() - started, 1), last
        except Exception as error:  # noqa: BLE001 - the database may be restarting
            last = {"error": str(error)[:200]}
        time.sleep(2)
    return None, last


def account_orders(checker, database, order_log):
    placed = {r["order_id"]: r["payment"] for r in order_log if r["event"] == "placed"}
    cancelled = {r["order_id"] for r in order_log if r["event"] == "cancelled"}
    found = {}
    db = checker.Store(database)
    ids = list(placed)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for oid, status, reason in db.execute(
                f"SELECT id, status, rejection_reason FROM orders_orders WHERE id IN ({marks})", tuple(chunk)):
            found[oid] = (status, reason)
    db.db.close()
    problems, statuses, rejected_visa = [], {}, {}
    for oid, payment in placed.items():
        if oid not in found:
            problems.append(f"order {oid}: acknowledged with 201, not in the database")
            continue
        status, reason = found[oid]
        statuses[status] = statuses.get(status, 0) + 1
        if status in ("pending", "payment_authorized"):
            problems.append(f"order {oid}: still {status} after the drain")
        elif payment == "tok_declined" and status != "rejected":
            problems.append(f"order {oid}: paid with tok_declined, ended {status}")
        elif payment == "tok_declined" and reason != "payment_declined":
            problems.append(f"order {oid}: tok_declined rejected for {reason}")
        elif payment == "tok_visa" and status == "rejected":
            if reason == "payment_declined":
                problems.append(f"order {oid}: tok_visa rejected as declined")
            rejected_visa[reason or "?"] = rejected_visa.get(reason or "?", 0) + 1
    for oid in cancelled:
        if oid in found and found[oid][0] != "cancelled":
            problems.append(f"order {oid}: cancel answered 200, order {found[oid][0]}")
    return {"acknowledged": len(placed), "found": sum(1 for o in placed if o in found),
            "cancel_acknowledged": len(cancelled), "by_status": statuses,
            "tok_visa_rejected_by_reason": rejected_visa, "problems": problems[:50],
            "problem_count": len(problems)}


def alert_states(prometheus, start, end):
    """{alertname: highest state} over [start, end] from the ALERTS series (1-s steps)."""
    query = urllib.parse.urlencode({"query": "ALERTS", "start": f"{start:.0f}", "end": f"{end:.0f}", "step": "1"})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query_range?{query}", timeout=30) as r:
        data = json.load(r)["data"]["result"]
    states, spans = {}, []
    for series in data:
        name, state = series["metric"]["alertname"], series["metric"]["alertstate"]
        if STATE_RANK[state] > STATE_RANK.get(states.get(name, "none"), 0):
            states[name] = state
        labels = {k: v for k, v in series["metric"].items() if k not in ("__name__", "alertname", "alertstate")}
        times = sorted(float(v[0]) for v in series["values"])
        run_start = prev = times[0]
        for t in times[1:] + [None]:  # one span per unbroken run of 1-s points
            if t is None or t - prev > 2:
                spans.append({"alert": name, "state": state, "labels": labels, "from": run_start, "to": prev})
                run_start = t
            prev = t if t is not None else prev
    return states, spans


def check_alerts(expected, seen):
    problems = []
    for name, want in expected.items():
        got = seen.get(name, "none")
        if got != want:
            problems.append(f"{name}: expected {want}, was {got}")
    for name, got in seen.items():
        if name not in expected and got == "firing":
            problems.append(f"{name}: fired, not expected")
    return problems


def plot(path, e, t0, requests, samples, marks, spans, result):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(4, 1, figsize=(11, 9), sharex=True,
                             gridspec_kw={"height_ratios": [3, 3, 2, 1.2]})
    end = max((r["t"] for r in requests), default=t0 + 1)
    seconds = range(0, int(end - t0) + 1)
    ok = [0] * len(seconds)
    bad = [0] * len(seconds)
    for r in requests:
        i = int(r["t"] - t0)
        if 0 <= i < len(ok):
            (ok if r["ok"] else bad)[i] += 1
    ax = axes[0]
    ax.plot(list(seconds), ok, color="tab:blue", lw=1, label="answered as expected /s")
    ax.plot(list(seconds), bad, color="tab:red", lw=1.2, label="failed /s")
    ax.set_ylabel("requests/s")
    ax.legend(loc="upper left", fontsize=8)
    ws = windows(requests, t0, end, STEADY_WINDOW_S)
    ax = axes[1]
    xs = [w["t"] - t0 + STEADY_WINDOW_S / 2 for w in ws]
    for key, color in (("p50", "tab:green"), ("p95", "tab:orange"), ("p99", "tab:red")):
        ax.plot(xs, [w[key] for w in ws], color=color, lw=1.2, label=f"{key} (5-s windows)")
    ax.axhline(OBJECTIVE_P95_MS, color="grey", ls=":", lw=1, label="p95 objective")
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms)")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[2]
    sx = [float(s["t"]) - t0 for s in samples]
    for key, color, label in (("saga_backlog", "tab:purple", "saga backlog"),
                              ("outbox_backlog", "tab:brown", "events not yet relayed (orders)")):
        ys = []
        for s in samples:
            try:
                ys.append(float(s.get(key) or "nan"))
            except ValueError:
                ys.append(float("nan"))
        ax.plot(sx, ys, color=color, lw=1.2, label=label)
    ax.set_ylabel("backlog")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[3]
    names = sorted({s["alert"] for s in spans})
    for i, name in enumerate(names):
        for s in spans:
            if s["alert"] == name:
                ax.barh(i, s["to"] - s["from"] + 1, left=s["from"] - t0, height=0.6,
                        color="tab:red" if s["state"] == "firing" else "gold")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([n.replace("Deliveryhub", "") for n in names] or ["(no alert)"], fontsize=8)
    ax.set_xlabel("seconds since the load started (alerts: yellow pending, red firing)")
    start = next((m["t"] for m in marks if m["mark"] == "fault_start"), None)
    stop = next((m["t"] for m in marks if m["mark"] == "fault_end"), None)
    for a in axes:
        if start is not None:
            a.axvspan(start - t0, (stop or start) - t0 + 0.5, color="red", alpha=0.08)
        for m in marks:
            a.axvline(m["t"] - t0, color="red", lw=0.6, ls="--")
    rec = result["recovery_s"]
    axes[0].set_title(f"{e.name}: {result['fault']}  —  recovered "
                      f"{'in ' + format(rec, 'g') + ' s' if rec is not None else 'NOT within the run'}, "
                      f"verdict {'PASS' if result['passed'] else 'FAIL'}", fontsize=10)
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def judge_requests(e, t0, requests, samples, marks, load_end):
    """What the users saw: phases, recovery, the blast radius. Returns (fields, problems)."""
    problems = []
    fault_start = next((m["t"] for m in marks if m["mark"] == "fault_start"), None)
    fault_end = next((m["t"] for m in marks if m["mark"] == "fault_end"), None)
    if fault_start is None or fault_end is None:
        problems.append(f"the fault did not run to its end (marks: {[m['mark'] for m in marks]}, "
                        f"FAULT_HOOK exit {os.environ.get('FAULT_RC')})")
        fault_start = fault_start or load_end
        fault_end = fault_end or load_end
    before = phase_stats(requests, t0 + RAMP_S + 5, fault_start)
    during = phase_stats(requests, fault_start, fault_end)
    after = phase_stats(requests, fault_end, load_end + 1)
    bound_ms = max(OBJECTIVE_P95_MS, 2 * (before["p95_ms"] or 0))
    ws = windows(requests, fault_start, load_end + 1, STEADY_WINDOW_S)
    missed = [w for w in ws if w["requests"] and (w["failed"] / w["requests"] >= MAX_ERROR_RATIO or w["p95"] > bound_ms)]
    if missed and missed[-1]["t"] + STEADY_WINDOW_S > load_end - STEADY_WINDOW_S:
        recovery = None  # still missing at the end of the run
    else:
        recovery = round(max(0.0, (missed[-1]["t"] + STEADY_WINDOW_S - fault_end) if missed else 0.0), 1)
    if recovery is None:
        problems.append("not back to steady state before the load ended")
    elif recovery > e.recover_within_s:
        problems.append(f"back to steady state {recovery} s after the fault, over {e.recover_within_s} s")
    by_route = {}
    for r in requests:
        if fault_start <= r["t"] < fault_end + BLAST_TAIL_S:
            counts = by_route.setdefault(r["route"], [0, 0])
            counts[0] += 1
            counts[1] += 0 if r["ok"] else 1
    failing = sorted(route for route, (_, failed) in by_route.items() if failed)
    outside = [route for route in failing if route not in e.affected and "*" not in e.affected]
    if outside:
        problems.append("failed outside the expected blast radius: " +
                        ", ".join(f"{route} ({by_route[route][1]} of {by_route[route][0]})" for route in outside))
    backlog_base = max((float(s["saga_backlog"]) for s in samples
                        if s.get("saga_backlog") not in (None, "") and t0 + RAMP_S <= float(s["t"]) < fault_start),
                       default=0.0)
    backlog_back = next((round(float(s["t"]) - fault_end, 1) for s in samples
                         if float(s["t"]) >= fault_end and s.get("saga_backlog") not in (None, "")
                         and float(s["saga_backlog"]) <= max(backlog_base, 5)), None)
    fields = {
        "t0": t0, "fault": next((m.get("action") for m in marks if m["mark"] == "fault_start"), "?"),
        "fault_s": round(fault_end - fault_start, 1), "marks": [{**m, "at_s": round(m["t"] - t0, 1)} for m in marks],
        "before": before, "during": during, "after": after, "steady_p95_bound_ms": bound_ms,
        "recovery_s": recovery, "recover_within_s": e.recover_within_s,
        "blast_radius_expected": list(e.affected), "failing_routes": failing,
        "by_route_during": {route: {"requests": n, "failed": f} for route, (n, f) in sorted(by_route.items())},
        "saga_backlog_before_max": backlog_base, "saga_backlog_back_s": backlog_back,
    }
    return fields, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", choices=sorted(BY_NAME))
    ap.add_argument("--plot")
    ap.add_argument("--rejudge", metavar="OUT",
                    help="judge again what users saw in a finished run's OUT (its result.json keeps the "
                         "database's and Prometheus's answers): after a change of the hypothesis or the judge")
    args = ap.parse_args()
    e = BY_NAME[args.experiment]
    out = pathlib.Path(args.rejudge or os.environ["LOAD_OUT"])
    marks = [json.loads(line) for line in (out / "marks.jsonl").read_text().splitlines()] \
        if (out / "marks.jsonl").exists() else []
    requests = [{"t": float(r["t"]), "ms": float(r["ms"]), "ok": r["ok"] == "1", "route": f"{r['type']} {r['name']}"}
                for r in read_csv(out / "requests.csv")]
    samples = read_csv(out / "samples.csv")
    load_end = max((r["t"] for r in requests), default=time.time())

    if args.rejudge:
        stored = json.loads((out / "result.json").read_text())
        t0 = stored.get("t0") or next(m["t"] - m["at_s"] for m in stored["marks"])
        live = {k: stored[k] for k in ("quiet_after_load_s", "accounting", "invariants", "alerts_expected",
                                        "alerts_seen", "alert_spans", "outcomes")}
        live["alerts_expected"] = e.expect_alerts
        live_problems = stored.get("live_problems")
        if live_problems is None:  # judged before live and request problems were kept apart
            live_problems = [p for p in stored["problems"] if not p.startswith(
                ("not back to steady state", "back to steady state", "the fault did not run", "failed outside"))]
        live_problems = [p for p in live_problems if not p.startswith("Deliveryhub")]
        live_problems += check_alerts(e.expect_alerts, stored["alerts_seen"])
        spans = [{**s} for s in stored["alert_spans"]]
    else:
        t0 = float(os.environ["LOAD_T0"])
        database = os.environ["DATABASE_URL"]
        prometheus = os.environ.get("PROMETHEUS_URL", "")
        checker = load_checker()
        live_problems = []
        drain_s, last = wait_for_quiet(checker, database, DRAIN_LIMIT_S)
        if drain_s is None:
            live_problems.append(f"not quiet {DRAIN_LIMIT_S} s after the load: {last}")
        accounting = account_orders(checker, database, read_csv(out / "orders.csv"))
        live_problems += accounting["problems"][:20]
        if accounting["acknowledged"] == 0:
            live_problems.append("no order was acknowledged: the load did not place any")
        inv = subprocess.run([sys.executable, str(CHECKER), database], capture_output=True, text=True)
        if inv.returncode != 0:
            live_problems.append(f"invariant checker exit {inv.returncode}: {(inv.stdout + inv.stderr).strip()[:400]}")
        seen, spans = ({}, [])
        if prometheus:
            try:
                seen, spans = alert_states(prometheus, t0, time.time())
                live_problems += check_alerts(e.expect_alerts, seen)
            except Exception as error:  # noqa: BLE001
                live_problems.append(f"Prometheus unreadable: {error}")
        else:
            live_problems.append("no PROMETHEUS_URL: the alerts were not checked")
        live = {
            "quiet_after_load_s": drain_s, "accounting": {k: v for k, v in accounting.items() if k != "problems"},
            "invariants": {"exit": inv.returncode, "violations": inv.stdout.splitlines()[:20]},
            "alerts_expected": e.expect_alerts, "alerts_seen": seen,
            "alert_spans": [{**s, "from_s": round(s["from"] - t0, 1), "to_s": round(s["to"] - t0, 1)} for s in spans],
            "outcomes": json.loads((out / "outcomes.json").read_text())["outcomes"]
            if (out / "outcomes.json").exists() else {},
        }

    fields, request_problems = judge_requests(e, t0, requests, samples, marks, load_end)
    problems = request_problems + live_problems
    result = {"experiment": e.name, "hypothesis": e.hypothesis, **fields, **live,
              "live_problems": live_problems, "problems": problems, "passed": not problems}
    (out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    if args.plot:
        plot(args.plot, e, t0, requests, samples, result["marks"], spans, result)
    print(json.dumps({k: result[k] for k in ("experiment", "fault_s", "during", "recovery_s", "failing_routes",
                                             "saga_backlog_back_s", "quiet_after_load_s", "alerts_seen", "problems",
                                             "passed")}, indent=1))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
