"""The binary run as Kubernetes would run the `single` overlay's pod (issue 5, item 4).

Everything the pod gets comes from the rendered manifests: the migrations Job's and the
Deployment's args, their environment (the ConfigMap through envFrom, the Secret's keys through
secretKeyRef, `$(VAR)` expansion as the kubelet does it), the JWT key mounted from the Secret,
the probes, the preStop hook and terminationGracePeriodSeconds. Only what a cluster provides is
played here: the Secret's values (made up), cluster DNS (the `postgres` Service is the suite's
PostgreSQL on 127.0.0.1, tests/support/with-postgres.sh) and the pod's address (127.0.0.1 and a
free port instead of 0.0.0.0:8080). Needs DELIVERYHUB_BIN and DELIVERYHUB_TEST_POSTGRES.

Checked: the probes' answers through start-up, readiness and drain; that SIGTERM under load loses
no request that was answered 201; that the process exits 0 within the grace period; and that it
writes nothing outside its emptyDir (the root filesystem is read-only in the pod). The JWT keys:
with the Secret's verify key equal to its signing key (as the template makes it) the JWKS lists
one key; with another verify key (a rotation's steps 1 and 2, docs/runbook.md) it lists both,
and tokens are signed with the signing key.
"""
from __future__ import annotations

import base64
import concurrent.futures
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "k8s"))
from renders import render  # noqa: E402

ADMIN_URL = os.environ.get("DELIVERYHUB_TEST_POSTGRES", "")
BINARY = os.environ.get("DELIVERYHUB_BIN", "")
pytestmark = pytest.mark.skipif(not (ADMIN_URL and BINARY), reason="needs DELIVERYHUB_BIN and DELIVERYHUB_TEST_POSTGRES")

# What a cluster would hold in the Secret deliveryhub-secrets (k8s/base/secret.template.yaml);
# the JWT keys' PEM files are added by secret_with_keys().
SECRET = {
    "database-password": secrets.token_hex(16),
    "bootstrap-operator-email": "ops@example.com",
    "bootstrap-operator-password": "Op-" + secrets.token_urlsafe(18),
}


def pem_key() -> str:
    """A new EC P-256 private key, PEM, as the template's `openssl genpkey` makes it."""
    return subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                          check=True, capture_output=True, text=True).stdout


def secret_with_keys(rotating: bool = False) -> dict[str, str]:
    """SECRET with the JWT keys: the verify key is the signing key (the template's commands), or
    another key while a rotation runs."""
    signing = pem_key()
    return {**SECRET, "jwt-signing-key.pem": signing, "jwt-verify-key.pem": pem_key() if rotating else signing}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def objects() -> list[dict]:
    return render(("single",))


def find(objs: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name} in the single overlay"
    return matches[0]


def expand(value: str, env: dict[str, str]) -> str:
    """The kubelet's $(VAR) expansion: defined variables only, $$ escapes."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), value)


def container_environment(container: dict, objs: list[dict], secret: dict[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config = find(objs, "ConfigMap", source["configMapRef"]["name"])
        env.update({k: str(v) for k, v in config["data"].items()})
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = expand(var["value"], env)
            continue
        ref = var["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "deliveryhub-secrets", ref
        if ref["key"] in secret:
            env[var["name"]] = secret[ref["key"]]
        else:
            assert ref.get("optional"), f"the pod needs Secret key {ref['key']!r}, which the template must list"
    return env


class Cluster:
    """What the cluster provides: DNS for the postgres Service, the Secret, the mounted files."""

    def __init__(self, objs: list[dict], workdir: Path) -> None:
        service = find(objs, "Service", "postgres")
        self.pg_port = next(p["port"] for p in service["spec"]["ports"])
        admin = urllib.parse.urlparse(ADMIN_URL)
        self.local_pg = f"{admin.hostname}:{admin.port}"
        database = "k8s_" + secrets.token_hex(6)
        self.database = database
        for sql in (f"CREATE ROLE deliveryhub_{database} LOGIN PASSWORD '{SECRET['database-password']}'",
                    f"CREATE DATABASE {database} OWNER deliveryhub_{database}"):
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", ADMIN_URL, "-c", sql], check=True,
                           capture_output=True, timeout=30)
        self.role = f"deliveryhub_{database}"
        self.mounts: dict[str, Path] = {}
        self.workdir = workdir

    def resolve(self, env: dict[str, str]) -> dict[str, str]:
        """Cluster DNS and the pod's own database and role names for this test."""
        url = env.get("DELIVERYHUB_DATABASE", "")
        url = url.replace(f"@postgres:{self.pg_port}/", f"@{self.local_pg}/")
        url = re.sub(r"//deliveryhub:", f"//{self.role}:", url)
        url = re.sub(r"/deliveryhub$", f"/{self.database}", url)
        return {**env, "DELIVERYHUB_DATABASE": url}

    def mount_secret_volumes(self, pod_spec: dict, container: dict, secret: dict[str, str]) -> dict[str, str]:
        """Writes each Secret volume's items to a folder, as the kubelet does (a missing key of
        a volume that is not optional keeps the pod from starting); returns mountPath → folder."""
        mapped = {}
        volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            if "secret" not in volume:
                continue
            assert volume["secret"]["secretName"] == "deliveryhub-secrets", volume
            folder = self.workdir / f"secret-{mount['name']}-{secrets.token_hex(3)}"  # one per pod
            folder.mkdir()
            for item in volume["secret"]["items"]:
                if item["key"] not in secret:
                    assert volume["secret"].get("optional"), \
                        f"the pod mounts Secret key {item['key']!r}, which the template must list"
                    continue
                (folder / item["path"]).write_text(secret[item["key"]])
                (folder / item["path"]).chmod(0o440)
            mapped[mount["mountPath"]] = str(folder)
        return mapped


def pod_command(container: dict, env: dict[str, str], mounts: dict[str, str], port: int,
                metrics_port: int | None = None) -> tuple[list[str], dict]:
    args = [expand(a, env) for a in container.get("args", [])]
    env = dict(env)
    for path, folder in mounts.items():
        env = {k: v.replace(path, folder) for k, v in env.items()}
    env["DELIVERYHUB_LISTEN"] = f"127.0.0.1:{port}"  # the pod's address: loopback here
    if "DELIVERYHUB_METRICS_LISTEN" in env:
        env["DELIVERYHUB_METRICS_LISTEN"] = f"127.0.0.1:{metrics_port or free_port()}"
    # The test's load is one address registering as fast as it can; on a cluster every client
    # has its own address. Lift the per-address registration limit (20 an hour) for it.
    env["DELIVERYHUB_REGISTRATIONS_PER_ADDRESS"] = "1000000"
    full = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
    full.update(env)
    full["TMPDIR"] = env.get("TMPDIR", "/tmp")
    return [BINARY, *args], full


def probe(port: int, probe_spec: dict) -> int | None:
    path = probe_spec["httpGet"]["path"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=probe_spec.get("timeoutSeconds", 1))
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def jwks_kids(port: int) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/.well-known/jwks.json")
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        return [k["kid"] for k in json.loads(resp.read())["keys"]]
    finally:
        conn.close()


class Pod:
    """The single overlay's pod on this machine: its migrations Job run to completion first, then
    its container started with the Deployment's args, environment and Secret files."""

    def __init__(self, tmp_path: Path, secret: dict[str, str], cluster: "Cluster | None" = None,
                 run_job: bool = True, env_overrides: dict[str, str] | None = None) -> None:
        """cluster: share another pod's (its database); run_job False: start the container at
        once, as the kubelet may while the Job still runs; env_overrides: after the manifests'."""
        objs = objects()
        deployment = find(objs, "Deployment", "deliveryhub")
        self.spec = deployment["spec"]["template"]["spec"]
        self.container = next(c for c in self.spec["containers"] if c["name"] == "deliveryhub")
        self.job = next(o for o in objs if o["kind"] == "Job")
        self.cluster = cluster or Cluster(objs, tmp_path)
        self.root_fs = tmp_path / f"rootfs-{secrets.token_hex(3)}"  # the working directory: must stay empty
        self.root_fs.mkdir()
        if run_job:  # the migrations Job, as its manifest says, to completion
            cmd, env = self.job_command(secret)
            migrated = subprocess.run(cmd, env=env, cwd=self.root_fs, capture_output=True, text=True, timeout=60)
            assert migrated.returncode == 0, migrated.stderr

        # The pod.
        env = self.cluster.resolve(container_environment(self.container, objs, secret))
        mounts = self.cluster.mount_secret_volumes(self.spec, self.container, secret)
        self.port = free_port()
        self.metrics_port = free_port()
        cmd, env = pod_command(self.container, env, mounts, self.port, self.metrics_port)
        env.update(env_overrides or {})
        self.env = env
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.root_fs, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output: list[str] = []
        self.reader = threading.Thread(
            target=lambda: self.output.extend(line.decode(errors="replace") for line in self.proc.stdout), daemon=True)
        self.reader.start()

    def job_command(self, secret: dict[str, str]) -> tuple[list[str], dict]:
        """The migrations Job's container: its command line and environment here."""
        job_container = self.job["spec"]["template"]["spec"]["containers"][0]
        job_env = self.cluster.resolve(container_environment(job_container, objects(), secret))
        return pod_command(job_container, job_env, {}, free_port())

    def probe_port(self, probe_spec: dict) -> int:
        """The port a probe's httpGet names (a container port's name, or its number) on this host."""
        named = probe_spec["httpGet"]["port"]
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        number = ports.get(named, named)
        here = {ports.get("http"): self.port, ports.get("metrics"): self.metrics_port}
        assert number in here, f"the probe's port {named!r} is none of the container's"
        return here[number]

    def probe(self, probe_spec: dict) -> int | None:
        """What the kubelet's httpGet probe would see: the status, None after its timeoutSeconds."""
        return probe(self.probe_port(probe_spec), probe_spec)

    def tail(self) -> str:
        return "".join(self.output[-30:])

    def wait_ready(self) -> None:
        """Through the startup probe's budget to live, then to ready, as the kubelet probes."""
        startup = self.container["startupProbe"]
        budget = startup["failureThreshold"] * startup["periodSeconds"]
        while self.probe(startup) != 200:
            assert self.proc.poll() is None, self.tail()
            assert time.monotonic() - self.started < budget, f"the startup probe failed for {budget}s"
            time.sleep(0.2)
        assert self.probe(self.container["livenessProbe"]) == 200
        readiness = self.container["readinessProbe"]
        deadline = time.monotonic() + readiness["failureThreshold"] * readiness["periodSeconds"] + 10
        while self.probe(readiness) != 200:
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reader.join(timeout=5)


def operator_token(port: int) -> str:
    """The bootstrap operator's access token (password grant)."""
    body = urllib.parse.urlencode({"grant_type": "password", "username": SECRET["bootstrap-operator-email"],
                                   "password": SECRET["bootstrap-operator-password"]})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/oauth/token", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        payload = resp.read()
        assert resp.status == 200, payload
        return json.loads(payload)["access_token"]
    finally:
        conn.close()


def token_kid(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def status_of(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_the_pod_runs_in_production_with_metrics_apart(tmp_path):
    """The manifests run `--env production` (a real signing key, no public /metrics): /metrics on
    the `metrics` container port only, which the Service names for the ServiceMonitor."""
    pod = Pod(tmp_path, secret_with_keys())
    try:
        pod.wait_ready()
        assert pod.env["DELIVERYHUB_ENV"] == "production"  # from the ConfigMap, through envFrom
        assert status_of(pod.metrics_port, "/metrics") == 200
        assert status_of(pod.port, "/metrics") == 404
        ports = {p["name"]: p["containerPort"] for p in pod.container["ports"]}
        assert ports["metrics"] == int(find(objects(), "ConfigMap", "deliveryhub-config")["data"][
            "DELIVERYHUB_METRICS_LISTEN"].rsplit(":", 1)[1])
    finally:
        pod.stop()


def test_the_single_pod_publishes_both_keys_while_a_rotation_runs(tmp_path):
    pod = Pod(tmp_path, secret_with_keys(rotating=True))
    try:
        pod.wait_ready()
        kids = jwks_kids(pod.port)
        assert len(kids) == 2 and kids[0] != kids[1], kids
        # Signed with jwt-signing-key.pem, whose key the JWKS lists first; the other only verifies.
        assert token_kid(operator_token(pod.port)) == kids[0]
        pod.proc.send_signal(signal.SIGTERM)
        assert pod.proc.wait(timeout=pod.spec["terminationGracePeriodSeconds"]) == 0, pod.tail()
    finally:
        pod.stop()


def test_the_single_pod_starts_serves_and_drains_as_its_manifests_say(tmp_path):
    running = Pod(tmp_path, secret_with_keys())
    pod, container, port, proc = running.spec, running.container, running.port, running.proc
    try:
        running.wait_ready()
        readiness = container["readinessProbe"]
        # The verify key is the signing key, as the Secret template makes it: published once,
        # and it signs.
        kids = jwks_kids(port)
        assert len(kids) == 1 and token_kid(operator_token(port)) == kids[0]

        # Load: customers registering, as many clients at once as the pod's 4 workers can serve.
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop_load = threading.Event()

        def client(i: int) -> None:
            n = 0
            while not stop_load.is_set():
                n += 1
                email = f"k8s-{i}-{n}-{secrets.token_hex(4)}@example.com"
                body = json.dumps({"email": email, "password": "pw-" + secrets.token_urlsafe(12), "name": "Pod"})
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                try:
                    conn.request("POST", "/api/v1/customers", body=body, headers={"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status == 201:
                        with lock:
                            acknowledged.append(email)
                    else:
                        assert resp.status == 503, resp.status  # refused while draining, never a 500
                except (OSError, http.client.HTTPException):
                    pass  # no answer: not acknowledged (the pod is gone from the endpoints by then)
                finally:
                    conn.close()

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(client, i) for i in range(8)]
            time.sleep(1.5)
            # Termination as the kubelet does it: the preStop hook (the pod still serves), then SIGTERM.
            time.sleep(container["lifecycle"]["preStop"]["sleep"]["seconds"])
            assert running.probe(readiness) == 200, "ready until SIGTERM"
            before = len(acknowledged)
            terminated = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            assert running.probe(readiness) in (503, None), "not ready once terminating"
            grace = pod["terminationGracePeriodSeconds"] - container["lifecycle"]["preStop"]["sleep"]["seconds"]
            code = proc.wait(timeout=grace)
            stop_load.set()
            for future in futures:
                future.result(timeout=30)
        assert code == 0, running.tail()
        assert time.monotonic() - terminated < grace
        assert before > 0, "the load ran: registrations were acknowledged before SIGTERM"
    finally:
        running.stop()

    # Every acknowledged registration is in the database.
    listed = subprocess.run(["psql", "-tA", ADMIN_URL.rsplit("/", 1)[0] + "/" + running.cluster.database, "-c",
                             "SELECT email FROM customers.customers_accounts"],
                            check=True, capture_output=True, text=True, timeout=30).stdout.split()
    missing = set(acknowledged) - set(listed)
    assert not missing, f"{len(missing)} acknowledged registrations lost, e.g. {sorted(missing)[:3]}"
    # The root filesystem is read-only in the pod: nothing may have been written outside /tmp.
    assert list(running.root_fs.iterdir()) == [], sorted(p.name for p in running.root_fs.iterdir())
    print(f"{len(acknowledged)} registrations acknowledged, none lost; exit 0 {time.monotonic() - terminated:.1f}s "
          "after SIGTERM")
