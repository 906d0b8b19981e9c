#!/usr/bin/env python3
"""The table of chaos experiments for docs/chaos.md, from their result.json files.

    report.py OUT/result.json...
"""
import json
import pathlib
import re
import sys


def ms(v):
    return "–" if v is None else f"{v:,.0f}"


def row(r):
    d = r["during"]
    err = "–" if not d["requests"] else f"{d['failed']:,} / {d['requests']:,} ({100 * d['failed'] / d['requests']:.1f} %)"
    acc = r["accounting"]
    alerts = ", ".join(f"{k.replace('Deliveryhub', '')} {r['alerts_seen'].get(k, 'none')} (expected {v})"
                       for k, v in r["alerts_expected"].items()) or "none expected"
    extra = [f"{k.replace('Deliveryhub', '')} {v}" for k, v in r["alerts_seen"].items() if k not in r["alerts_expected"]]
    if extra:
        alerts += "; also " + ", ".join(extra)
    rec = "not recovered" if r["recovery_s"] is None else f"{r['recovery_s']:g} s (≤ {r['recover_within_s']})"
    backlog = "–" if r["saga_backlog_back_s"] is None else f"{r['saga_backlog_back_s']:g} s"
    failing = r.get("failing_routes", [])
    allowed = r.get("blast_radius_expected", [])
    outside = [f for f in failing if f not in allowed and "*" not in allowed]
    radius = (f"{len(failing)}, all named" if not outside else
              f"{len(failing)}; outside: {', '.join(outside)}") if failing else "none"
    fault = re.sub(r" \(pid \d+\)", "", r["fault"])
    inv = "clean" if r["invariants"]["exit"] == 0 else f"{len(r['invariants']['violations'])} violation(s)"
    return (f"| [{r['experiment']}](chaos/{r['experiment']}.png) | {fault} ({r['fault_s']:g} s) | {err} | "
            f"{ms(d['p95_ms'])} / {ms(d['p99_ms'])} | {radius} | {rec} | {backlog} | "
            f"{acc['found']:,} / {acc['acknowledged']:,}, {acc['problem_count']} off | {inv} | {alerts} | "
            f"{'**held**' if r['passed'] else '**did not hold**: ' + '; '.join(r['problems'])[:300]} |")


def main(paths):
    print("| experiment | fault (length) | failed requests during | p95 / p99 during (ms) | routes that failed | "
          "back to steady | saga backlog back | 201 orders found, off | invariants | alerts | hypothesis |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for p in paths:
        path = pathlib.Path(p)
        if not path.exists():
            print(f"| {path.parent.name} | (no result: the run failed before judging) ||||||||||")
            continue
        print(row(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
