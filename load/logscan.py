#!/usr/bin/env python3
"""Summarises deliveryhub (and gateway) logs after a load run: what went wrong on the server side.

    logscan.py NAME=FILE ... > scan.json

For each file of JSON lines: the lines, the request lines (deliveryhub's `"msg":"request"`, or
every line of the gateway's access log) by status class, the 4xx/5xx by route (or URI) and status,
the warning/error/critical lines by message, up to 10 examples of each 5xx and error line (and 3 of each warning message), and
the server-side time per route (p50/p95/p99/max of `duration_ms`, or the gateway's `duration_s`):
set beside Locust's, the difference is time spent outside the handlers (queues, the load generator).
Lines that are not JSON are counted apart.
"""
import json
import re
import sys
from collections import Counter

# /api/v1/orders/ord_01J…/cancel → /api/v1/orders/{id}/cancel: the gateway logs URIs, not routes.
ID = re.compile(r"/[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}")


def template(uri):
    return ID.sub("/{id}", uri.split("?")[0])


def scan(path):
    durations = {}  # route → server-side ms (deliveryhub's duration_ms, the gateway's duration_s)
    out = {"lines": 0, "not_json": 0, "requests": 0, "by_class": Counter(), "problems": Counter(),
           "levels": Counter(), "error_messages": Counter(), "examples_5xx": [], "examples_error": [],
           "examples_warning": []}
    warning_examples = Counter()
    with open(path, errors="replace") as f:
        for line in f:
            out["lines"] += 1
            try:
                rec = json.loads(line)
            except ValueError:
                out["not_json"] += 1
                continue
            if not isinstance(rec, dict):
                out["not_json"] += 1
                continue
            level = rec.get("level")
            is_request = rec.get("msg") == "request" or ("uri" in rec and "status" in rec)
            if is_request:
                out["requests"] += 1
                status = int(rec.get("status", 0))
                out["by_class"][f"{status // 100}xx"] += 1
                if status >= 400:
                    where = rec.get("route") or template(rec.get("uri", "?"))
                    out["problems"][f"{rec.get('method', '?')} {where} {status}"] += 1
                ms = rec.get("duration_ms")
                if ms is None and rec.get("duration_s") is not None:
                    ms = float(rec["duration_s"]) * 1000
                if ms is not None:
                    route = rec.get("route") or template(rec.get("uri", "?"))
                    durations.setdefault(f"{rec.get('method', '?')} {route}", []).append(float(ms))
                if status >= 500 and len(out["examples_5xx"]) < 10:
                    out["examples_5xx"].append(rec)
            if level:
                out["levels"][level] += 1
            if level in ("warn", "warning", "error", "critical"):
                out["error_messages"][f"{level}: {rec.get('msg', '')}"] += 1
                if level in ("warn", "warning"):
                    if warning_examples[rec.get("msg", "")] < 3 and len(out["examples_warning"]) < 20:
                        warning_examples[rec.get("msg", "")] += 1
                        out["examples_warning"].append(rec)
                elif len(out["examples_error"]) < 10:
                    out["examples_error"].append(rec)
    def pct(values, p):
        return round(values[min(len(values) - 1, int(p * len(values)))], 2)
    out["server_ms"] = {}
    everything = sorted(ms for v in durations.values() for ms in v)
    if everything:
        out["server_ms"]["all"] = {"n": len(everything), "p50": pct(everything, 0.5), "p95": pct(everything, 0.95),
                                   "p99": pct(everything, 0.99), "max": everything[-1]}
    for route, values in sorted(durations.items(), key=lambda kv: -len(kv[1])):
        values.sort()
        out["server_ms"][route] = {"n": len(values), "p50": pct(values, 0.5), "p95": pct(values, 0.95),
                                   "p99": pct(values, 0.99), "max": values[-1]}
    return out


def main():
    result = {}
    for arg in sys.argv[1:]:
        name, path = arg.split("=", 1)
        try:
            result[name] = scan(path)
        except OSError as e:
            result[name] = {"error": str(e)}
    json.dump(result, sys.stdout, indent=1, default=dict)
    print()


if __name__ == "__main__":
    main()
