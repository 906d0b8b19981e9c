#!/usr/bin/env python3
"""The fault of one chaos experiment, run by load/run.sh beside the load (chaos/README.md).

    inject.py setup EXPERIMENT   SETUP_HOOK: before the load (puts the fault proxy in place)
    inject.py fault EXPERIMENT   FAULT_HOOK: waits WARMUP_S from the load's start, injects the
                                 fault, ends it, and writes what it did when to $LOAD_OUT/marks.jsonl

Reads LOAD_T0, LOAD_OUT and SPLIT_DIR from load/run.sh. Everything it touches is on 127.0.0.1
and in SPLIT_DIR: the processes scripts/split.sh started, their PostgreSQL and RabbitMQ.
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from experiments import BY_NAME, WARMUP_S  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPLIT = ROOT / "scripts/split.sh"


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"inject: {name} is not set (run through chaos/run.sh)")
    return value


def mark(what, **extra):
    line = {"t": round(time.time(), 3), "mark": what, **extra}
    with open(pathlib.Path(env("LOAD_OUT")) / "marks.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
    print(json.dumps(line), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def split_dir():
    return pathlib.Path(env("SPLIT_DIR"))


def module_pid(module):
    return int((split_dir() / f"{module}.pid").read_text().split()[0])


def run(*cmd, **kw):
    print("+ " + " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


# --- set-up -------------------------------------------------------------------------------------

def setup_proxy():
    """Starts the fault proxy in front of payments and restarts orders with its payments remote
    pointing there: from then on every call orders makes to payments crosses the proxy."""
    d = split_dir()
    cmd_file = d / "orders.cmd"
    args = cmd_file.read_bytes().split(b"\0")[:-1]
    upstream_port = (d / "payments.port").read_text().strip()
    listen, control = free_port(), free_port()
    out = pathlib.Path(env("LOAD_OUT"))
    proxy = subprocess.Popen([sys.executable, str(ROOT / "chaos/faultproxy.py"), "serve", "--listen", str(listen),
                              "--upstream", f"127.0.0.1:{upstream_port}", "--control", str(control)],
                             stdout=open(out / "faultproxy.log", "w"), stderr=subprocess.STDOUT,
                             start_new_session=True)
    (out / "faultproxy.pid").write_text(str(proxy.pid))
    (out / "faultproxy.control").write_text(str(control))
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", control), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    old = f"payments=http://127.0.0.1:{upstream_port}".encode()
    if old not in args:
        sys.exit(f"inject: orders.cmd has no {old.decode()}")
    args = [f"payments=http://127.0.0.1:{listen}".encode() if a == old else a for a in args]
    cmd_file.write_bytes(b"".join(a + b"\0" for a in args))
    run("bash", SPLIT, "kill", d, "orders", "TERM")
    run("bash", SPLIT, "revive", d, "orders")
    print(f"inject: orders → 127.0.0.1:{listen} (fault proxy) → payments 127.0.0.1:{upstream_port}", flush=True)


# --- faults -------------------------------------------------------------------------------------

def fault_kill(e):
    d = split_dir()
    pid = module_pid(e.target)
    mark("fault_start", action=f"kill -9 {e.target} (pid {pid})")
    run("bash", SPLIT, "kill", d, e.target, "KILL")
    time.sleep(e.fault_s)
    mark("restart", action=f"start {e.target} again")
    run("bash", SPLIT, "revive", d, e.target)
    mark("fault_end", action=f"{e.target} ready (pid {module_pid(e.target)})")


def fault_freeze(e):
    pid = module_pid(e.target)
    mark("fault_start", action=f"SIGSTOP {e.target} (pid {pid})")
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(e.fault_s)
    finally:
        os.kill(pid, signal.SIGCONT)
    mark("fault_end", action=f"SIGCONT {e.target}")


def fault_rabbitmq(e):
    broker = split_dir() / "rabbitmq"
    script = ROOT / "scripts/local-rabbitmq.sh"
    mark("fault_start", action="stop RabbitMQ")
    started = time.time()
    run("bash", script, "stop", broker, env={**os.environ, "KEEP": "1"})
    time.sleep(max(0.0, e.fault_s - (time.time() - started)))
    mark("restart", action="start RabbitMQ again")
    run("bash", script, "start", broker, stdout=subprocess.DEVNULL)
    mark("fault_end", action="RabbitMQ ready")


def fault_postgres(e):
    pg = pathlib.Path((split_dir() / "postgres.dir").read_text().strip())
    mark("fault_start", action="restart PostgreSQL (fast shutdown)")
    run("bash", ROOT / "scripts/local-postgres.sh", "restart", pg)
    mark("fault_end", action="PostgreSQL accepting connections")


def proxy_set(pairs):
    control = (pathlib.Path(env("LOAD_OUT")) / "faultproxy.control").read_text().strip()
    run(sys.executable, ROOT / "chaos/faultproxy.py", "set", "--control", control, *pairs)


def fault_proxy(e):
    pairs = [f"{k}={v}" for k, v in e.params.items()]
    mark("fault_start", action=f"orders → payments: {' '.join(pairs)}")
    proxy_set(pairs)
    try:
        time.sleep(e.fault_s)
    finally:
        proxy_set([])
    mark("fault_end", action="orders → payments: pass-through")


FAULTS = {"kill": fault_kill, "freeze": fault_freeze, "rabbitmq": fault_rabbitmq, "postgres": fault_postgres,
          "proxy": fault_proxy}


def main(argv):
    if len(argv) != 3 or argv[1] not in ("setup", "fault") or argv[2] not in BY_NAME:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    e = BY_NAME[argv[2]]
    # Stopped early (the run ended, ^C): the finally blocks still thaw a frozen process and clear
    # the proxy's faults.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if argv[1] == "setup":
        if e.proxy:
            setup_proxy()
        return 0
    t0 = float(env("LOAD_T0"))
    time.sleep(max(0.0, t0 + WARMUP_S - time.time()))
    FAULTS[e.fault](e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
