"""The built image, run as Kubernetes runs it: the single overlay's container, with podman.

`scripts/image.sh --test` builds the image and runs this file against it (DELIVERYHUB_IMAGE).
Skipped when DELIVERYHUB_IMAGE is unset, podman or runc is missing, or not root (podman runs as
root here; scripts/image.sh says why, and why runc).

The container is started from the rendered `single` overlay (tests/k8s/render.sh): the
Deployment's args (the image's entrypoint is kept), its ConfigMap and env (the Secret's values
made up here, `$(VAR)` expanded as the kubelet does), its security context (user and group,
read-only root, no capabilities, no privilege escalation), its emptyDir mounts as tmpfs and its
Secret volume as a read-only directory. Three things differ, each because of where it runs:
the database URL's host and port point at a throw-away PostgreSQL on 127.0.0.1 instead of the
`postgres` Service; the container shares the host's network (podman's bridge cannot reach
127.0.0.1), so the listen addresses move to free loopback ports; and the limits podman would
raise are pinned under this sandbox's hard ones.

Checks: every process of it runs as uid/gid 10001; nothing is writable but /tmp (mount table
and writes tried as its user); /livez and /readyz answer 200; the README's walkthroughs pass
against it; SIGTERM drains and the container exits 0 within the pod's grace period. The image's
default command (no arguments: SQLite under the data directory) is started too, with a tmpfs
there, and must serve and stop the same way.
"""
import json
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests/integration"))
import test_readme  # noqa: E402  (the README walkthroughs and their checks)

IMAGE = os.environ.get("DELIVERYHUB_IMAGE", "")
# The hard limits of this sandbox (scripts/image.sh); podman's defaults ask for more.
ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]
START_DEADLINE_S = 60
DATA_DIR = "/var/lib/deliveryhub/data"

pytestmark = pytest.mark.skipif(
    not IMAGE or not shutil.which("podman") or not shutil.which("runc") or os.geteuid() != 0,
    reason="needs DELIVERYHUB_IMAGE, podman and runc, as root (scripts/image.sh --test)")


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def wait_until(predicate, deadline_s: float, what: str, logs=lambda: "", alive=lambda: True) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return
        if not alive():
            raise AssertionError(f"exited before {what}\n{logs()}")
        time.sleep(0.25)
    raise AssertionError(f"{what} within {deadline_s} s\n{logs()}")


# --- The single overlay's pod, read from its render --------------------------------------------
# The render, the kubelet's $(VAR) expansion and the container's environment are the ones
# tests/k8s_runtime plays the pod with.
sys.path.insert(0, str(REPO / "tests/k8s_runtime"))
import test_pod_lifecycle as lifecycle  # noqa: E402


class PodSpec:
    """What podman needs from the Deployment `deliveryhub` of the single overlay."""

    def __init__(self, objects: list[dict], secret_values: dict[str, str]):
        deployment = lifecycle.find(objects, "Deployment", "deliveryhub")
        pod = deployment["spec"]["template"]["spec"]
        self.container = next(c for c in pod["containers"] if c["name"] == "deliveryhub")
        self.pod_security = pod.get("securityContext", {})
        self.grace_s = pod.get("terminationGracePeriodSeconds", 30)
        self.args = self.container.get("args", [])
        assert "command" not in self.container, "the image's entrypoint is what the test runs"
        self.env = lifecycle.container_environment(self.container, objects, secret_values)
        self.volumes = {v["name"]: v for v in pod.get("volumes", [])}

    def security_args(self) -> list[str]:
        ctx = {**self.pod_security, **self.container.get("securityContext", {})}
        assert ctx.get("runAsUser") and ctx.get("runAsGroup"), "the overlay must name the user"
        args = ["--user", f"{ctx['runAsUser']}:{ctx['runAsGroup']}"]
        if ctx.get("readOnlyRootFilesystem"):
            # No extra tmpfs on /run, /var/tmp and /tmp: only the pod's volumes are writable.
            args += ["--read-only", "--read-only-tmpfs=false"]
        if "ALL" in ctx.get("capabilities", {}).get("drop", []):
            args += ["--cap-drop", "ALL"]
        if ctx.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        return args

    def volume_args(self, secret_files: dict[str, bytes], workdir: pathlib.Path) -> list[str]:
        args = []
        for mount in self.container.get("volumeMounts", []):
            volume = self.volumes[mount["name"]]
            if "emptyDir" in volume:
                args += ["--tmpfs", f"{mount['mountPath']}:rw,U"]
            elif "secret" in volume:
                folder = workdir / mount["name"]
                folder.mkdir()
                for item in volume["secret"]["items"]:
                    path = folder / item["path"]
                    path.write_bytes(secret_files[item["key"]])
                    os.chown(path, 10001, 10001)
                    path.chmod(volume["secret"].get("defaultMode", 0o644))
                args += ["-v", f"{folder}:{mount['mountPath']}:ro"]
            else:
                pytest.fail(f"volume {mount['name']}: a kind this test does not model")
        return args


# --- Fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres():
    folder = tempfile.mkdtemp(prefix="deliveryhub-image-pg-")
    try:
        admin = subprocess.run(["bash", str(REPO / "scripts/local-postgres.sh"), "start", folder],
                               check=True, capture_output=True, text=True, timeout=120).stdout.strip()
        yield admin
    finally:
        subprocess.run(["bash", str(REPO / "scripts/local-postgres.sh"), "stop", folder], timeout=120)


class Container:
    def __init__(self, name: str, host: str, port: int):
        self.name, self.host, self.port = name, host, port

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-6000:]

    def running(self) -> bool:
        return podman("inspect", "--format", "{{.State.Running}}", self.name, check=False).stdout.strip() == "true"

    def pid(self) -> int:
        return int(podman("inspect", "--format", "{{.State.Pid}}", self.name).stdout)

    def stop_with_sigterm(self, grace_s: float) -> int:
        """SIGTERM, then the exit code podman saw (the test fails if it takes over grace_s)."""
        started = time.monotonic()
        podman("kill", "--signal", "TERM", self.name)
        code = int(podman("wait", self.name, timeout=grace_s + 5).stdout.strip())
        assert time.monotonic() - started < grace_s, "took longer than the grace period"
        return code


def run_container(args: list[str], name_prefix: str, host: str, port: int):
    name = f"{name_prefix}-{secrets.token_hex(4)}"
    podman("run", "-d", "--name", name, "--runtime", "runc", *ULIMITS, *args)
    return Container(name, host, port)


@pytest.fixture(scope="module")
def single_overlay(postgres):
    """The single overlay's container on a fresh database, ready."""
    database = "image_" + secrets.token_hex(6)
    password = secrets.token_hex(12)
    # As the postgres StatefulSet's first start makes them: the role deliveryhub owns the database.
    for sql in ("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'deliveryhub') THEN "
                "CREATE ROLE deliveryhub LOGIN; END IF; END$$",
                f"ALTER ROLE deliveryhub PASSWORD '{password}'",
                f"CREATE DATABASE {database} OWNER deliveryhub"):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", postgres, "-c", sql],
                       check=True, capture_output=True, timeout=30)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="deliveryhub-image-"))
    key = workdir / "signing-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", str(key)], check=True, capture_output=True)
    secret_values = {
        "database-password": password,
        "bootstrap-operator-email": test_readme.WALKTHROUGH_OPERATOR["DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL"],
        "bootstrap-operator-password": test_readme.WALKTHROUGH_OPERATOR["DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD"],
    }
    spec = PodSpec(lifecycle.objects(), secret_values)
    env = dict(spec.env)
    overlay_url = env["DELIVERYHUB_DATABASE"]
    assert overlay_url.startswith("postgresql://") and "@postgres:5432/" in overlay_url, overlay_url
    local = postgres.split("@", 1)[1].split("/", 1)[0]  # 127.0.0.1:PORT
    env["DELIVERYHUB_DATABASE"] = overlay_url.replace("@postgres:5432/deliveryhub", f"@{local}/{database}")
    port, metrics_port = lifecycle.free_port(), lifecycle.free_port()
    env["DELIVERYHUB_LISTEN"] = f"127.0.0.1:{port}"
    env["DELIVERYHUB_METRICS_LISTEN"] = f"127.0.0.1:{metrics_port}"
    env_args = [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]
    secret_files = {"jwt-signing-key.pem": key.read_bytes(), "jwt-verify-key.pem": key.read_bytes()}
    container = run_container(["--network", "host", *spec.security_args(),
                               *spec.volume_args(secret_files, workdir), *env_args, IMAGE, *spec.args],
                              "deliveryhub-single", "127.0.0.1", port)
    container.spec = spec
    container.metrics_port = metrics_port
    try:
        wait_until(lambda: http_status(container.url("/readyz")) == 200, START_DEADLINE_S,
                   "the single overlay's container ready", container.logs, container.running)
        yield container
    finally:
        podman("rm", "--force", "--time", "0", container.name, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


# --- The checks ------------------------------------------------------------------------------

def writable_mounts(pid: int) -> set[str]:
    """Mount points writable inside the container, less the kernel's own file systems."""
    kernel = {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "devtmpfs"}
    writable = set()
    for line in pathlib.Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        mount_point, options = fields[4], fields[5].split(",")
        fs_type = fields[fields.index("-") + 1]
        if "rw" in options and fs_type not in kernel and not mount_point.startswith(("/dev", "/proc", "/sys")):
            writable.add(mount_point)
    return writable


def test_runs_as_its_user_on_a_read_only_root(single_overlay):
    pid = single_overlay.pid()
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    gids = next(line for line in status.splitlines() if line.startswith("Gid:")).split()[1:]
    assert uids == ["10001"] * 4 and gids == ["10001"] * 4, (uids, gids)
    assert writable_mounts(pid) == {"/tmp"}, "only the pod's emptyDir may be writable"
    for target in ("/", "/usr/local/bin", "/etc", "/var/lib/deliveryhub", DATA_DIR, "/etc/deliveryhub/jwt"):
        tried = podman("exec", single_overlay.name, "sh", "-c", f"echo x > {target}/probe-write", check=False)
        assert tried.returncode != 0 and "Read-only file system" in tried.stderr, (target, tried.stderr)
    tried = podman("exec", single_overlay.name, "sh", "-c", "echo x > /tmp/probe-write && id -u")
    assert tried.stdout.strip() == "10001"


def test_probes_and_version_answer(single_overlay):
    for path in ("/livez", "/readyz"):
        assert http_status(single_overlay.url(path)) == 200, path
    with urllib.request.urlopen(single_overlay.url("/version"), timeout=5) as resp:
        version = json.load(resp)
    assert version.get("version"), version
    metrics = f"http://127.0.0.1:{single_overlay.metrics_port}/metrics"
    assert http_status(metrics) == 200


def test_readme_walkthroughs_pass_against_it(single_overlay):
    test_readme.check_walkthroughs(single_overlay)


def test_sigterm_drains_and_exits_0(single_overlay):
    """Last in the file: it stops the module's container."""
    grace = single_overlay.spec.grace_s
    assert single_overlay.stop_with_sigterm(grace) == 0, single_overlay.logs()
    logs = single_overlay.logs()
    assert "draining" in logs and "drained" in logs, logs


def test_default_command_serves_on_sqlite_and_stops_on_sigterm():
    """`podman run IMAGE` as the README's laptop shape: SQLite in the data directory (a tmpfs
    here, as the read-only root leaves nothing else), the port published on loopback."""
    port = lifecycle.free_port()
    container = run_container(["-p", f"127.0.0.1:{port}:8080", "--read-only", "--read-only-tmpfs=false",
                               "--tmpfs", "/tmp:rw,U", "--tmpfs", f"{DATA_DIR}:rw,U", IMAGE],
                              "deliveryhub-default", "127.0.0.1", port)
    try:
        wait_until(lambda: http_status(container.url("/readyz")) == 200, START_DEADLINE_S,
                   "the default command ready", container.logs, container.running)
        assert writable_mounts(container.pid()) == {"/tmp", DATA_DIR}
        listing = podman("exec", container.name, "ls", DATA_DIR).stdout.split()
        assert "deliveryhub.db" in listing, listing
        assert container.stop_with_sigterm(30) == 0, container.logs()
    finally:
        podman("rm", "--force", "--time", "0", container.name, check=False)
