"""What a first install and a busy day do to the single overlay's pods (issue 19), run as
test_pod_lifecycle runs them: the binary with the rendered manifests' args, environment, Secret
files and probes, PostgreSQL on 127.0.0.1.

  - every API worker busy (requests queued behind a locked table): the probes, on the port the
    manifests name, answer within their timeoutSeconds;
  - PostgreSQL stopped under a running pod: liveness stays 200 every time; readiness stays 200
    through a blip, then says 503 `database_unavailable`, and 200 again once it is back;
  - five pods and the migrations Job started at once on an empty database: all become ready,
    none exits, each migration applied once;
  - a pod started before PostgreSQL accepts connections waits (live, not ready, saying
    `waiting_for_database`) and becomes ready after it does.
The last two use a PostgreSQL of their own (scripts/local-postgres.sh), started and stopped here.
"""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_pod_lifecycle as lifecycle  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
pytestmark = lifecycle.pytestmark


def readyz(port: int, timeout: float) -> tuple[int | None, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/readyz")
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body else {}
    except OSError:
        return None, {}
    finally:
        conn.close()


def timed_probe(pod: lifecycle.Pod, probe_spec: dict) -> tuple[int | None, float]:
    started = time.monotonic()
    status = pod.probe(probe_spec)
    return status, time.monotonic() - started


class OwnPostgres:
    """A PostgreSQL of this test's own on a port chosen now, started when asked."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="deliveryhub-day-one-pg-")
        self.port = lifecycle.free_port()
        self.admin = ""

    def start(self) -> str:
        self.admin = subprocess.run(["bash", str(ROOT / "scripts/local-postgres.sh"), "start", self.dir, str(self.port)],
                                    check=True, capture_output=True, text=True, timeout=120).stdout.strip()
        return self.admin

    def pg_ctl(self, action: str) -> None:
        """stop (fast: sessions cut) or start again, on the same port (as local-postgres.sh starts it)."""
        pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        options = ["-o", f"-p {self.port} -k {self.dir}/socket -c listen_addresses=127.0.0.1"] if action == "start" else []
        subprocess.run([*as_owner, str(pg_bin / "pg_ctl"), "-D", f"{self.dir}/data", "-l", f"{self.dir}/server.log",
                        "-m", "fast", "-w", "-t", "60", *options, action], check=True, capture_output=True, timeout=90)

    def remove(self) -> None:
        subprocess.run(["bash", str(ROOT / "scripts/local-postgres.sh"), "stop", self.dir], timeout=120)


@pytest.fixture
def own_postgres():
    pg = OwnPostgres()
    try:
        yield pg
    finally:
        pg.remove()


def test_probes_answer_in_time_while_every_worker_is_busy(tmp_path):
    pod = lifecycle.Pod(tmp_path, lifecycle.secret_with_keys())
    locker = None
    try:
        pod.wait_ready()
        url = lifecycle.ADMIN_URL.rsplit("/", 1)[0] + "/" + pod.cluster.database
        # A migration or a long report holding the accounts table: every registration waits for it
        # (up to the connection's 5-s lock_timeout) on one of the pod's workers.
        locker = subprocess.Popen(["psql", "-q", url, "-c",
                                   "BEGIN; LOCK TABLE customers.customers_accounts IN ACCESS EXCLUSIVE MODE; "
                                   "SELECT pg_sleep(14); COMMIT;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)

        def register(i: int) -> int:
            body = json.dumps({"email": f"busy-{i}-{secrets.token_hex(4)}@example.com",
                               "password": "pw-" + secrets.token_urlsafe(12), "name": "Busy"})
            conn = http.client.HTTPConnection("127.0.0.1", pod.port, timeout=90)
            try:
                conn.request("POST", "/api/v1/customers", body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                return resp.status
            finally:
                conn.close()

        with concurrent.futures.ThreadPoolExecutor(max_workers=48) as pool:
            futures = [pool.submit(register, i) for i in range(48)]
            time.sleep(2)  # the workers have taken their first requests; the rest queue
            answers = []
            for _ in range(8):
                for name in ("livenessProbe", "readinessProbe"):
                    answers.append((name, *timed_probe(pod, pod.container[name])))
                time.sleep(1)
            statuses = [f.result(timeout=120) for f in futures]
        slow = [a for a in answers if a[1] != 200 or a[2] > pod.container[a[0]]["timeoutSeconds"]]
        assert not slow, f"probes failed or were late while the workers were busy: {slow}"
        # The load was real: requests waited for the lock (503 after lock_timeout) or got through after it.
        assert set(statuses) <= {201, 503} and 503 in statuses, statuses
    finally:
        if locker:
            locker.wait(timeout=30)
        pod.stop()


def test_postgresql_stopped_under_a_running_pod(tmp_path, own_postgres):
    admin = own_postgres.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lifecycle, "ADMIN_URL", admin)
        pod = lifecycle.Pod(tmp_path, lifecycle.secret_with_keys())
    try:
        pod.wait_ready()
        liveness, readiness = pod.container["livenessProbe"], pod.container["readinessProbe"]
        own_postgres.pg_ctl("stop")
        stopped = time.monotonic()
        seen = []
        while time.monotonic() - stopped < 16:
            live, live_s = timed_probe(pod, liveness)
            ready, ready_s = timed_probe(pod, readiness)
            seen.append((round(time.monotonic() - stopped, 1), live, ready))
            assert live == 200 and live_s <= liveness["timeoutSeconds"], seen
            assert ready in (200, 503) and ready_s <= readiness["timeoutSeconds"], seen
            time.sleep(0.5)
        assert pod.proc.poll() is None, pod.tail()
        # A blip keeps the pod ready; a database gone longer takes it out, saying why.
        assert all(ready == 200 for at, _, ready in seen if at < 5), seen
        status, body = readyz(pod.probe_port(readiness), readiness["timeoutSeconds"])
        assert status == 503 and body.get("state") == "database_unavailable", (status, body)
        own_postgres.pg_ctl("start")
        deadline = time.monotonic() + 15
        while pod.probe(readiness) != 200:
            assert time.monotonic() < deadline, "not ready again after PostgreSQL came back"
            time.sleep(0.5)
    finally:
        pod.stop()


def test_five_pods_and_the_job_at_once_on_an_empty_database_all_become_ready(tmp_path):
    secret = lifecycle.secret_with_keys()
    first = lifecycle.Pod(tmp_path, secret, run_job=False)
    pods = [first]
    try:
        job_cmd, job_env = first.job_command(secret)
        job = subprocess.Popen(job_cmd, env=job_env, cwd=first.root_fs, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        pods += [lifecycle.Pod(tmp_path, secret, cluster=first.cluster, run_job=False) for _ in range(4)]
        for pod in pods:
            pod.wait_ready()
        job_output = job.communicate(timeout=60)[0].decode(errors="replace")
        assert job.returncode == 0, job_output
        for pod in pods:
            assert pod.proc.poll() is None, pod.tail()
        url = lifecycle.ADMIN_URL.rsplit("/", 1)[0] + "/" + first.cluster.database
        applied = subprocess.run(["psql", "-tA", url, "-c", "SELECT count(*) FROM schema_migrations"],
                                 check=True, capture_output=True, text=True, timeout=30).stdout.strip()
        assert int(applied) > 10, applied  # every module's schema is there
    finally:
        for pod in pods:
            pod.stop()


def test_a_pod_started_before_postgresql_waits_and_becomes_ready(tmp_path, own_postgres):
    # The pod's database URL points at a server not started yet (as on a first install, where
    # the postgres StatefulSet and the Deployment start together).
    database_url = f"postgresql://postgres@127.0.0.1:{own_postgres.port}/postgres"
    pod = lifecycle.Pod(tmp_path, lifecycle.secret_with_keys(), run_job=False,
                        env_overrides={"DELIVERYHUB_DATABASE": database_url})
    try:
        startup, readiness = pod.container["startupProbe"], pod.container["readinessProbe"]
        deadline = time.monotonic() + 10
        while pod.probe(startup) != 200:  # live at once, while it waits
            assert pod.proc.poll() is None, pod.tail()
            assert time.monotonic() < deadline, "the startup probe failed while waiting for the database"
            time.sleep(0.2)
        time.sleep(3)
        status, body = readyz(pod.probe_port(readiness), readiness["timeoutSeconds"])
        assert status == 503 and body.get("state") == "waiting_for_database", (status, body)
        assert pod.proc.poll() is None, pod.tail()
        own_postgres.start()
        started = time.monotonic()
        while pod.probe(readiness) != 200:
            assert pod.proc.poll() is None, pod.tail()
            assert time.monotonic() - started < 30, "not ready after PostgreSQL came up"
            time.sleep(0.2)
        assert any("waiting for the database" in line for line in pod.output), pod.tail()
    finally:
        pod.stop()
