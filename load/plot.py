#!/usr/bin/env python3
"""Plots a load run and finds its knee (load/README.md).

    plot.py --history PREFIX_stats_history.csv --samples samples.csv --out docs/load/SHAPE.png
            [--requests requests.csv --table table.md] [--title T] [--window 15]
            [--p95-ms 300] [--max-error-ratio 0.001]

The PNG: on one time axis (seconds since the first Locust sample), (1) requests/s and failures/s
with the number of users, (2) p50/p95/p99 latency (Locust's current percentiles, a ~10 s window)
against the objective, with Locust's own event-loop lag (--lag), (3) the saga backlog, (4) CPU per process in % of one CPU, with the
machine's busy CPU on the same scale (200 % = two CPUs busy) and what the named processes do not
account for ("other": anything else running on the machine).

The table (from the per-request log that load/locustfile.py writes with LOAD_REQUEST_LOG): one
row per --window seconds: users at its end, req/s, p50/p95/p99, errors and their ratio, the saga
backlog's maximum and the mean CPU per process; then the knee: the most users of a window that
met the objective (p95 < --p95-ms and errors < --max-error-ratio) before the first that did not.
"""
import argparse
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(v):
    try:
        x = float(v)
        return x if math.isfinite(x) else None
    except (TypeError, ValueError):
        return None


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p * len(sorted_values)) - 1))
    return sorted_values[k]


def cpu_columns(samples):
    return [c for c in (samples[0].keys() if samples else []) if c.startswith("cpu_") and c != "cpu_machine"]


def other_cpu(sample, ncpu):
    """CPU of everything the sampler did not name (a build beside the run, …), % of one CPU."""
    machine = num(sample.get("cpu_machine"))
    if machine is None:
        return None
    return max(0.0, machine * ncpu - sum(num(sample[c]) or 0 for c in cpu_columns([sample])))


def plot(history, samples, out, title, p95_ms, lag=()):
    rows = [r for r in history if r["Name"] == "Aggregated"]
    if not rows:
        sys.exit("plot: no Aggregated rows in the history")
    t0 = float(rows[0]["Timestamp"])
    x = [float(r["Timestamp"]) - t0 for r in rows]
    fig, axes = plt.subplots(4, 1, figsize=(12, 13), sharex=True)
    fig.suptitle(title)

    ax = axes[0]
    ax.plot(x, [num(r["Requests/s"]) for r in rows], label="requests/s", color="tab:blue")
    ax.plot(x, [num(r["Failures/s"]) for r in rows], label="failures/s", color="tab:red")
    ax.set_ylabel("per second")
    ax.grid(alpha=0.3)
    users = ax.twinx()
    users.plot(x, [num(r["User Count"]) for r in rows], label="users", color="tab:gray", linestyle="--")
    users.set_ylabel("users")
    lines = ax.get_legend_handles_labels()
    lines2 = users.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left")

    ax = axes[1]
    for col, color in (("50%", "tab:green"), ("95%", "tab:orange"), ("99%", "tab:red")):
        ax.plot(x, [num(r[col]) for r in rows], label=f"p{col[:-1]}", color=color)
    ax.axhline(p95_ms, color="black", linestyle=":", label=f"objective: p95 < {p95_ms:g} ms")
    if lag:  # the load generator's own lateness, per second (its worst wake-up)
        per_s = {}
        for r in lag:
            k = int(float(r["t"]) - t0)
            per_s[k] = max(per_s.get(k, 0), num(r["lag_ms"]) or 0)
        ks = sorted(per_s)
        ax.plot(ks, [max(per_s[k], 0.1) for k in ks], color="tab:gray", linewidth=0.8,
                label="Locust's event-loop lag (max per s)")
    ax.set_yscale("log")
    ax.set_ylabel("latency, ms (log)")
    ax.legend(loc="lower left", fontsize="small", ncol=3)
    ax.grid(alpha=0.3, which="both")

    sx = [float(s["t"]) - t0 for s in samples]
    ax = axes[2]
    ax.plot(sx, [num(s["saga_backlog"]) for s in samples], color="tab:purple", label="saga backlog")
    ax.set_ylabel("unfinished sagas")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)

    ax = axes[3]
    ncpu = os.cpu_count() or 1
    for c in cpu_columns(samples):
        ax.plot(sx, [num(s[c]) for s in samples], label=c[4:])
    ax.plot(sx, [(num(s["cpu_machine"]) or 0) * ncpu for s in samples], color="black", linestyle="--",
            label=f"machine ({ncpu} CPUs = {ncpu * 100} %)")
    ax.plot(sx, [other_cpu(s, ncpu) for s in samples], color="gray", linestyle=":",
            label="other processes (machine − the above)")
    ax.set_ylabel("CPU, % of one CPU")
    ax.set_xlabel("seconds since the start of the run")
    ax.legend(loc="upper left", fontsize="small", ncol=2)
    ax.grid(alpha=0.3)

    fig.tight_layout()
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    fig.savefig(out, dpi=90)


def table(requests_rows, samples, window, p95_ms, max_ratio, lag=()):
    reqs = [(float(r["t"]), float(r["ms"]), r["ok"] == "1", int(r["users"]), r["name"]) for r in requests_rows]
    if not reqs:
        return "no requests logged\n", None
    t0 = min(r[0] for r in reqs)
    end = max(r[0] for r in reqs)
    cpus = cpu_columns(samples)
    tops = [c for c in (samples[0].keys() if samples else []) if c.startswith("top_thread_")]
    n = int((end - t0) // window) + 1
    lines = ["| window s | users (end) | requests | req/s | p50 ms | p95 ms | p99 ms | errors | error % | "
             "saga backlog max | " + " | ".join(f"CPU {c[4:]} %" for c in cpus)
             + f" | CPU other % | machine CPU % of {os.cpu_count() or 1} | "
             + "".join(f"busiest thread {c[11:]} % | " for c in tops)
             + "Locust lag p95 / max ms | meets |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(cpus) + "---:|---:|"
             + "---:|" * len(tops) + "---:|---|"]
    lags = [(float(r["t"]), num(r["lag_ms"]) or 0) for r in lag]
    knee, failed_at, best = None, None, None
    for i in range(n):
        lo, hi = t0 + i * window, t0 + (i + 1) * window
        sel = [r for r in reqs if lo <= r[0] < hi]
        if not sel:
            continue
        span = min(hi, end) - lo if i == n - 1 else window
        if span < window / 2:  # a last, short window (the stop) says little
            continue
        ms = sorted(r[1] for r in sel)
        errors = sum(1 for r in sel if not r[2])
        ratio = errors / len(sel)
        users_end = max(r[3] for r in sel)
        ss = [s for s in samples if lo <= float(s["t"]) < hi]
        backlog = max((num(s["saga_backlog"]) or 0 for s in ss), default=None)
        cpu_means = [sum(num(s[c]) or 0 for s in ss) / len(ss) if ss else None for c in cpus]
        top_means = [sum(num(s.get(c)) or 0 for s in ss) / len(ss) if ss else None for c in tops]
        machine = sum(num(s["cpu_machine"]) or 0 for s in ss) / len(ss) if ss else None
        ncpu = os.cpu_count() or 1
        other = sum(other_cpu(s, ncpu) or 0 for s in ss) / len(ss) if ss else None
        wl = sorted(v for t, v in lags if lo <= t < hi)
        lag_cell = f"{percentile(wl, 0.95):.0f} / {wl[-1]:.0f}" if wl else "—"
        p95 = percentile(ms, 0.95)
        ok = p95 < p95_ms and ratio < max_ratio
        if ok and failed_at is None:
            knee = users_end
        if ok:
            best = max(best or 0, users_end)
        if not ok and failed_at is None:
            failed_at = users_end

        def f(v, d=0):
            return "—" if v is None else f"{v:.{d}f}"
        lines.append(f"| {lo - t0:.0f}–{lo - t0 + window:.0f} | {users_end} | {len(sel)} | {len(sel) / span:.1f} | "
                     f"{f(percentile(ms, 0.5))} | {f(p95)} | {f(percentile(ms, 0.99))} | {errors} | {ratio * 100:.2f} | "
                     f"{f(backlog)} | " + " | ".join(f(c) for c in cpu_means) + f" | {f(other)} | {f(machine)} | "
                     + "".join(f"{f(c)} | " for c in top_means) + f"{lag_cell} | {'yes' if ok else '**no**'} |")
    all_ms = sorted(r[1] for r in reqs)
    errors = sum(1 for r in reqs if not r[2])
    lines.append("")
    lines.append(f"Whole run: {len(reqs)} requests, p50 {percentile(all_ms, 0.5):.0f} ms, p95 "
                 f"{percentile(all_ms, 0.95):.0f} ms, p99 {percentile(all_ms, 0.99):.0f} ms, errors {errors} "
                 f"({errors / len(reqs) * 100:.3f} %).")
    if failed_at is not None and knee is None:
        verdict = (f"Knee: **none** — the first {window:g}-s window already missed the objective (p95 < {p95_ms:g} ms, "
                   f"errors < {max_ratio * 100:g} %), at {failed_at} users"
                   + (f"; the most users of any window that met it: {best}." if best else "."))
    elif failed_at is None:
        verdict = (f"Knee: not reached — every {window:g}-s window met the objective (p95 < {p95_ms:g} ms, errors < "
                   f"{max_ratio * 100:g} %) up to {knee} users, the most this run had.")
    else:
        verdict = (f"Knee: **{knee if knee is not None else 0} users** — the last {window:g}-s window meeting the "
                   f"objective (p95 < {p95_ms:g} ms, errors < {max_ratio * 100:g} %) before the first that did not, at "
                   f"{failed_at} users" + (f"; the most users of any window that met it: {best}." if best else "."))
    lines.append("")
    lines.append(verdict)
    return "\n".join(lines) + "\n", knee


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--history", required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--requests")
    ap.add_argument("--table")
    ap.add_argument("--lag", help="the locustfile's LOAD_LAG_LOG (the load generator's event-loop lag)")
    ap.add_argument("--title", default="deliveryhub under load")
    ap.add_argument("--window", type=float, default=15)
    ap.add_argument("--p95-ms", type=float, default=300)
    ap.add_argument("--max-error-ratio", type=float, default=0.001)
    args = ap.parse_args()
    samples = read_csv(args.samples)
    lag = read_csv(args.lag) if args.lag and os.path.exists(args.lag) else []
    plot(read_csv(args.history), samples, args.out, args.title, args.p95_ms, lag)
    print(f"plot: {args.out}")
    if args.requests:
        text, _ = table(read_csv(args.requests), samples, args.window, args.p95_ms, args.max_error_ratio, lag)
        if args.table:
            with open(args.table, "w") as f:
                f.write(text)
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
