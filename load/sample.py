#!/usr/bin/env python3
"""Samples a deliveryhub under load every second into a CSV (load/README.md).

    sample.py --url URL --out FILE.csv [--email E --password P] [--metrics URL] [--interval 1]
              [--duration S] [--proc NAME=PID ...] [--tree NAME=PID ...] [--pidfile NAME=FILE ...]

Per sample: the saga backlog and the orders by status (GET /api/v1/orders/summary as the
operator: it is an operators' dashboard call), how long that call took, the CPU each named
process used since the previous sample (utime + stime from /proc/PID/stat, in % of one CPU;
--tree adds the CPU of every descendant, e.g. nginx's workers or PostgreSQL's backends, and a
process that has ended counts 0), the busiest thread of each --proc/--pidfile process (% of one
CPU: a single thread at 100 % is a limit more CPUs do not lift), the machine's busy CPU (% of all CPUs, /proc/stat) and the
1-minute load average. With --metrics (the orders process's /metrics URL) also the events not yet
relayed (deliveryhub_outbox_backlog, summed), and, where the binary has no summary route (404:
builds before it), the backlog from the gauges there instead: deliveryhub_orders{status=…},
backlog = pending + payment_authorized (as bench/ reads it); the column backlog_source says which.
Stops on SIGTERM/SIGINT or after --duration seconds. Standard library only.
"""
import argparse
import csv
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")
STATUSES = ["pending", "payment_authorized", "confirmed", "dispatched", "delivered", "rejected",
            "cancelled", "delivery_failed"]


def proc_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (OSError, IndexError, ValueError):
        return None


def thread_ticks(pid):
    """{thread id: utime + stime} of one process's threads."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return out


def children_map():
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree_pids(root, kids):
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def machine_ticks():
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts[:8]) - idle, sum(parts[:8])


class Operator:
    def __init__(self, url, email, password):
        self.url, self.email, self.password = url.rstrip("/"), email, password
        self.token, self.expires = None, 0.0

    def sign_in(self):
        data = urllib.parse.urlencode({"grant_type": "password", "username": self.email,
                                       "password": self.password}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{self.url}/oauth/token", data=data), timeout=10) as r:
            body = json.load(r)
        self.token = body["access_token"]
        self.expires = time.time() + float(body.get("expires_in", 900))

    def summary(self):
        """(status code, body or None, milliseconds)."""
        started = time.perf_counter()
        try:
            if self.token is None or time.time() > self.expires - 30:
                self.sign_in()
            req = urllib.request.Request(f"{self.url}/api/v1/orders/summary",
                                         headers={"Authorization": f"Bearer {self.token}"})
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.load(r), (time.perf_counter() - started) * 1000
        except urllib.error.HTTPError as e:
            if e.code == 401:
                self.token = None
            return e.code, None, (time.perf_counter() - started) * 1000
        except Exception:  # noqa: BLE001 - a timeout or a refused connection is a sample too
            return 0, None, (time.perf_counter() - started) * 1000


def read_metrics(url):
    """(orders by status, outbox backlog) from a Prometheus text page; ({}, None) when unreachable."""
    by_status, outbox = {}, None
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - a missed sample
        return by_status, outbox
    for line in text.splitlines():
        if line.startswith("deliveryhub_orders{"):
            label = line.split('status="', 1)[1].split('"', 1)[0] if 'status="' in line else ""
            by_status[label] = by_status.get(label, 0) + int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("deliveryhub_outbox_backlog"):
            outbox = (outbox or 0) + int(float(line.rsplit(" ", 1)[1]))
    return by_status, outbox


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--email", default=os.environ.get("OPERATOR_EMAIL"))
    ap.add_argument("--password", default=os.environ.get("OPERATOR_PASSWORD"))
    ap.add_argument("--metrics", help="the orders process's /metrics URL (outbox backlog; backlog fallback)")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--proc", action="append", default=[], help="NAME=PID: that process")
    ap.add_argument("--tree", action="append", default=[], help="NAME=PID: that process and its descendants")
    ap.add_argument("--pidfile", action="append", default=[], help="NAME=FILE: the process whose PID is in FILE")
    args = ap.parse_args()

    targets = []  # (name, pid, whole tree?)
    for spec, tree in [(s, False) for s in args.proc] + [(s, True) for s in args.tree]:
        name, pid = spec.split("=", 1)
        targets.append((name, int(pid), tree))
    for spec in args.pidfile:
        name, path = spec.split("=", 1)
        with open(path) as f:
            targets.append((name, int(f.readline().strip()), False))

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    op = Operator(args.url, args.email, args.password) if args.email else None

    singles = [(n, p) for n, p, tree in targets if not tree]

    def threads_now():
        return {n: thread_ticks(p) for n, p in singles}

    def cpu_now():
        kids = children_map() if any(t for _, _, t in targets) else {}
        out = {}
        for name, pid, tree in targets:
            total = 0
            for p in (tree_pids(pid, kids) if tree else [pid]):
                t = proc_ticks(p)
                total += t or 0
            out[name] = total
        return out

    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "elapsed_s", "saga_backlog", *STATUSES, "summary_status", "summary_ms", "backlog_source",
                    "outbox_backlog"]
                   + [f"cpu_{n}" for n, _, _ in targets] + ["cpu_machine", "load1"]
                   + [f"top_thread_{n}" for n, _ in singles])
        t0 = time.time()
        prev_cpu, prev_machine, prev_t, prev_threads = cpu_now(), machine_ticks(), time.time(), threads_now()
        next_at = t0 + args.interval
        use_summary = op is not None
        while not stop and time.time() - t0 < args.duration:
            delay = next_at - time.time()
            if delay > 0:
                time.sleep(delay)
            next_at += args.interval
            if stop:
                break
            code, body, ms = op.summary() if use_summary else (0, None, 0.0)
            if code == 404:  # a binary without the summary route: the metrics from now on
                use_summary = False
            metrics, outbox = read_metrics(args.metrics) if args.metrics else ({}, None)
            source = "summary" if body else ""
            if not body and metrics:
                body = {"saga_backlog": metrics.get("pending", 0) + metrics.get("payment_authorized", 0),
                        "by_status": metrics}
                source = "metrics"
            now = time.time()
            cpu, machine, threads = cpu_now(), machine_ticks(), threads_now()
            dt = max(now - prev_t, 1e-6)
            row = [f"{now:.3f}", f"{now - t0:.1f}"]
            row.append(body["saga_backlog"] if body else "")
            row += [body["by_status"].get(s, "") if body else "" for s in STATUSES]
            row += [code, f"{ms:.1f}", source, "" if outbox is None else outbox]
            # A process's counters only grow; a restart (smaller) or a vanished one counts 0.
            row += [f"{max(cpu[n] - prev_cpu[n], 0) / TICKS / dt * 100:.1f}" for n, _, _ in targets]
            busy = machine[0] - prev_machine[0]
            total = machine[1] - prev_machine[1]
            row.append(f"{busy / total * 100:.1f}" if total else "")
            row.append(f"{os.getloadavg()[0]:.2f}")
            # The busiest thread of each process (% of one CPU): near 100 % is a thread that
            # cannot go faster (the I/O thread, the database writer, …) whatever the CPUs left.
            for n, _ in singles:
                before = prev_threads.get(n, {})
                busiest = max((max(t - before.get(tid, t), 0) for tid, t in threads[n].items()), default=0)
                row.append(f"{busiest / TICKS / dt * 100:.1f}")
            w.writerow(row)
            f.flush()
            prev_cpu, prev_machine, prev_t, prev_threads = cpu, machine, now, threads
    return 0


if __name__ == "__main__":
    sys.exit(main())
