"""The split shape under test (DELIVERYHUB_TEST_SPLIT=1): scripts/split.sh's five processes, one
module each, on the suite's PostgreSQL and RabbitMQ, with nginx in front. The suite talks to the
gateway as any client would; the processes are reachable directly for what the gateway does not
route (operational endpoints) and for fault injection (kill, revive)."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import tempfile
import uuid

import pytest

from conftest import (AMQP_URL, OPERATOR_EMAIL, SERVICE_CLIENT_ACTS_FOR, SERVICE_CLIENT_ID, Endpoint, binary_path,
                      fresh_database_url, on_amqp, on_postgres)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPLIT_SCRIPT = os.path.join(ROOT, "scripts", "split.sh")
MODULES = ("customers", "payments", "delivery", "orders", "incidents")  # start order
SCRIPT_TIMEOUT_S = 180
# Failures any process reports on its way out (stderr goes to the module's log).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ModuleProcess(Endpoint):
    """One process of the shape, addressed directly (not through the gateway)."""

    def __init__(self, shape: "SplitShape", module: str, port: int) -> None:
        self.module = module
        self.host, self.port = "127.0.0.1", port
        self.operator_email, self.operator_password = shape.operator_email, shape.operator_password
        self.client_id, self.client_secret = shape.client_id, shape.client_secret
        self._operator_tokens = None


class SplitShape(Endpoint):
    """Takes Server's arguments: extra_args and extra_env go to every process."""

    def __init__(self, extra_args: list[str] | tuple[str, ...] = (),
                 extra_env: dict[str, str] | None = None, replica_of: object | None = None) -> None:
        if replica_of is not None:
            pytest.skip("replicas of a whole split shape are not a shape; tests/split scales one module")
        if not (on_postgres() and on_amqp()):
            pytest.fail("the split shape needs DELIVERYHUB_TEST_POSTGRES and DELIVERYHUB_TEST_AMQP "
                        "(tests/support/with-postgres.sh, with-rabbitmq.sh)")
        self._tmp = tempfile.TemporaryDirectory(prefix="deliveryhub-split-it-")
        self.workdir = self._tmp.name
        self.dir = os.path.join(self.workdir, "shape")
        self.operator_email = OPERATOR_EMAIL
        self.operator_password = "Op-" + secrets.token_urlsafe(18)
        self.client_id = SERVICE_CLIENT_ID
        self.client_secret = secrets.token_hex(24)
        self._operator_tokens = None
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.database_url = fresh_database_url("")
        self.bus_namespace = "it-" + uuid.uuid4().hex[:12]
        self.host, self.port = "127.0.0.1", 0
        self.ports: dict[str, int] = {}
        self._final_logs: dict[str, list[str]] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def _script(self, *args: str, env: dict[str, str] | None = None) -> str:
        run = subprocess.run(["bash", SPLIT_SCRIPT, *args], env=env or self._environment(),
                             capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S)
        if run.returncode != 0:
            pytest.fail(f"scripts/split.sh {' '.join(args)} exited with {run.returncode}:\n"
                        f"{run.stdout}\n{run.stderr}\n{self.output_tail()}")
        return run.stdout

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
        if any(" " in arg for arg in self.extra_args):
            pytest.fail(f"SPLIT_EXTRA_ARGS splits on spaces: {self.extra_args}")
        env.update({
            "DELIVERYHUB_BIN": binary_path(),
            "DELIVERYHUB_DATABASE": self.database_url,
            "DELIVERYHUB_BUS": AMQP_URL,
            "BUS_NAMESPACE": self.bus_namespace,
            "GATEWAY_PORT": str(self.port or free_port()),
            # The suite is one client sending far more than a person would; the gateway's limit
            # has its own test (tests/split).
            "RATE": "100000", "BURST": "100000",
            "DELIVERYHUB_REGISTRATIONS_PER_ADDRESS": "100000000",
            "SPLIT_EXTRA_ARGS": " ".join(["--log-level", "info",
                                          "--client", f"{self.client_id}:{self.client_secret}:service:{SERVICE_CLIENT_ACTS_FOR}",
                                          *self.extra_args]),
            "DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL": self.operator_email,
            "DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD": self.operator_password,
        })
        env.update(self.extra_env)
        return env

    def start(self, wait_ready: bool = True) -> "SplitShape":
        """Starts the shape; after kill(), starts again every process that is down."""
        if not self.ports:
            chosen = self.port  # 0: a free port is picked for the gateway
            for attempt in range(3):
                env = self._environment()
                run = subprocess.run(["bash", SPLIT_SCRIPT, "start", self.dir], env=env, capture_output=True,
                                     text=True, timeout=SCRIPT_TIMEOUT_S)
                # A port picked free can be taken by a module listening on port 0 before nginx
                # binds it (split.sh stops what it started but keeps its directory, which a
                # second start refuses): remove it, pick another port and start again.
                if run.returncode != 0 and not chosen and "Address already in use" in run.stderr and attempt < 2:
                    subprocess.run(["bash", SPLIT_SCRIPT, "stop", self.dir], env=env, capture_output=True,
                                   text=True, timeout=SCRIPT_TIMEOUT_S, check=True)
                    self.port = 0
                    continue
                break
            if run.returncode != 0:
                pytest.fail(f"scripts/split.sh start exited with {run.returncode}:\n{run.stdout}\n{run.stderr}\n"
                            f"{self.output_tail()}")
            gateway = run.stdout.strip().splitlines()[-1]
            self.port = int(gateway.rsplit(":", 1)[1])
            for module in MODULES:
                with open(os.path.join(self.dir, f"{module}.port"), encoding="ascii") as f:
                    self.ports[module] = int(f.read())
            return self
        for module in MODULES:
            if not self.module_running(module):
                self._script("revive", self.dir, module)
        return self

    def module_pid(self, module: str) -> int:
        with open(os.path.join(self.dir, f"{module}.pid"), encoding="ascii") as f:
            return int(f.read())

    def module_running(self, module: str) -> bool:
        try:
            os.kill(self.module_pid(module), 0)
            return True
        except (OSError, ValueError):
            return False

    def kill(self, module: str | None = None) -> None:
        """SIGKILL, as a crash: one module's process, or every one (then start() brings them back)."""
        for name in [module] if module else MODULES:
            self._script("kill", self.dir, name, "KILL")

    def stop(self, check: bool = True) -> None:
        """Stops everything (idempotent); with check, no process may have reported a sanitizer
        error and each must have logged its orderly stop."""
        if self._final_logs is not None or not os.path.isdir(self.dir):
            return
        self._stop_and_keep_logs()
        try:
            self._tmp.cleanup()
        except OSError:
            pass
        if not check:
            return
        for module, lines in (self._final_logs or {}).items():
            reports = [line for line in lines if any(marker in line for marker in SANITIZER_MARKERS)]
            assert not reports, f"{module} reported:\n" + "\n".join(reports[:20])
            records = [r for r in self._records(lines) if "msg" in r]
            assert records and records[-1]["msg"] == "stopped", \
                f"{module} did not stop in order (SIGTERM, drain); its log ends:\n" + "\n".join(lines[-10:])

    def _stop_and_keep_logs(self) -> None:
        # split.sh stop removes its directory: read the logs first, then once more after the stop
        # from copies the script cannot reach.
        keep = os.path.join(self.workdir, "logs")
        os.makedirs(keep, exist_ok=True)
        for module in MODULES:
            log = os.path.join(self.dir, f"{module}.log")
            if os.path.exists(log):
                os.link(log, os.path.join(keep, f"{module}.log"))
        self._script("stop", self.dir)
        self._final_logs = {}
        for module in MODULES:
            path = os.path.join(keep, f"{module}.log")
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    self._final_logs[module] = f.read().splitlines()

    @property
    def running(self) -> bool:
        return bool(self.ports) and all(self.module_running(m) for m in MODULES)

    # -- what the processes said ----------------------------------------------------------

    def module_log_lines(self, module: str) -> list[str]:
        if self._final_logs is not None:
            return list(self._final_logs.get(module, []))
        try:
            with open(os.path.join(self.dir, f"{module}.log"), encoding="utf-8", errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def log_records(self) -> list[dict]:
        """The JSON log lines of all five processes (each file in order, modules one after another)."""
        return [r for m in MODULES for r in self._records(self.module_log_lines(m))]

    @staticmethod
    def _records(lines: list[str]) -> list[dict]:
        records = []
        for line in lines:
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                records.append(parsed)
        return records

    def output_tail(self, lines: int = 15) -> str:
        return "\n".join(f"--- {m}.log ---\n" + "\n".join(self.module_log_lines(m)[-lines:])
                         for m in MODULES)

    def processes(self) -> list[Endpoint]:
        return [ModuleProcess(self, m, self.ports[m]) for m in MODULES]

    def process(self, module: str) -> ModuleProcess:
        return ModuleProcess(self, module, self.ports[module])
