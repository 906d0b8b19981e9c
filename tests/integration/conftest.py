"""Harness for the black-box integration suite: starts the real deliveryhub binary.

Everything here talks to the process only through its command line, environment, stdout
log lines, signals and HTTP on 127.0.0.1 (ephemeral port). Standard library only.
"""
from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from typing import Any, Callable, NamedTuple

import pytest

# The dev preset's binary in this checkout (ctest sets DELIVERYHUB_BIN to the build under test).
DEFAULT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "dev", "src", "app",
                           "deliveryhub")
START_DEADLINE_S = 20.0
STOP_DEADLINE_S = 20.0  # comfortably above the default --shutdown-grace of 10 s
HTTP_TIMEOUT_S = 10.0
OPERATOR_EMAIL = "ops@example.com"
SERVICE_CLIENT_ID = "svc-test"
# The suite's own machine client acts for every module that calls another, so that tests may call
# any internal route (ADR 0022); narrower clients have tests of their own (test_machine_clients.py).
SERVICE_CLIENT_ACTS_FOR = "payments+delivery+orders+incidents"
MIB = 1024 * 1024

PROBLEM_CT = "application/problem+json"
PROBLEM_PREFIX = "urn:deliveryhub:problem:"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
CUSTOMER_ID_RE = re.compile(r"^cus_[0-9A-HJKMNP-TV-Z]{26}$")  # ULID, Crockford base32
ADDRESS_ID_RE = re.compile(r"^adr_[0-9A-HJKMNP-TV-Z]{26}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
CUSTOMER_KEYS = {"id", "email", "name", "phone", "status", "addresses", "created_at",
                 "updated_at", "version"}
ADDRESS_KEYS = {"id", "label", "line1", "city", "postal_code", "country"}

# "Not JSON, not an object, bad query parameter" (docs/openapi.yaml, responses.BadRequest).
MALFORMED_SLUGS = ("bad-request",)


# --------------------------------------------------------------------------------------------
# small pure helpers


def binary_path() -> str:
    return os.environ.get("DELIVERYHUB_BIN", DEFAULT_BIN)


# When set (an admin URL such as postgresql://postgres@127.0.0.1:5432/postgres, as printed by
# scripts/local-postgres.sh), every Server gets a fresh PostgreSQL database instead of SQLite.
POSTGRES_ADMIN_URL = os.environ.get("DELIVERYHUB_TEST_POSTGRES", "")


def on_postgres() -> bool:
    return bool(POSTGRES_ADMIN_URL)


def fresh_database_url(sqlite_path: str) -> str:
    """sqlite:<sqlite_path>, or a new empty PostgreSQL database when the suite runs on one."""
    if not on_postgres():
        return f"sqlite:{sqlite_path}"
    name = "it_" + uuid.uuid4().hex[:16]
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", POSTGRES_ADMIN_URL, "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True, timeout=30)
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


# When set (an amqp:// URL, as printed by scripts/local-rabbitmq.sh), every Server carries its
# events through that broker (--bus), each under its own --bus-namespace (replicas share one).
AMQP_URL = os.environ.get("DELIVERYHUB_TEST_AMQP", "")


def on_amqp() -> bool:
    return bool(AMQP_URL)


# When DELIVERYHUB_TEST_SPLIT=1 (with DELIVERYHUB_TEST_POSTGRES and DELIVERYHUB_TEST_AMQP), the
# `server` and `make_server` fixtures give the split shape instead of one process: five
# processes started by scripts/split.sh, the suite talking to its nginx gateway.
SPLIT = os.environ.get("DELIVERYHUB_TEST_SPLIT", "") == "1"


def in_split() -> bool:
    return SPLIT


sqlite_only = pytest.mark.skipif(on_postgres(), reason="inspects the SQLite file itself")
# Tests of one process itself: its flags, exit codes, signals, stdout, sockets. The split shape
# runs the same binary, so they hold for each of its processes; they need a process of their own.
single_process = pytest.mark.skipif(SPLIT, reason="tests one process itself (flags, exit codes, "
                                    "signals, sockets), not the deployment shape")
postgres_only = pytest.mark.skipif(not on_postgres(), reason="needs a database several processes share (PostgreSQL)")


def unique_email(prefix: str = "it") -> str:
    return f"{prefix}-{uuid.uuid4().hex}@example.com"


def strong_password() -> str:
    return "pw-" + secrets.token_urlsafe(18)


def wait_for(predicate: Callable[[], Any], deadline_s: float, what: str,
             interval_s: float = 0.02) -> Any:
    """Polls predicate until it returns something truthy or the deadline passes."""
    end = time.monotonic() + deadline_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {deadline_s:.1f}s waiting for {what}")
        time.sleep(interval_s)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_jwt(token: str) -> tuple[dict, dict, bytes]:
    """Splits a JWS compact token without verifying it: (header, claims, signature)."""
    parts = token.split(".")
    assert len(parts) == 3, f"not a JWS compact token: {token!r}"
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    return header, claims, b64url_decode(parts[2])


def der_to_raw(der: bytes) -> bytes:
    """An ECDSA DER signature (as openssl writes it) as JOSE's raw R||S, for P-256."""
    # SEQUENCE { INTEGER r, INTEGER s }, short-form lengths (P-256 signatures are < 128 bytes).
    assert der[0] == 0x30
    pos = 2
    parts = []
    for _ in range(2):
        assert der[pos] == 0x02
        length = der[pos + 1]
        value = der[pos + 2:pos + 2 + length].lstrip(b"\x00")
        parts.append(value.rjust(32, b"\x00"))
        pos += 2 + length
    return parts[0] + parts[1]


def encode_jwt(header: dict, claims: dict, signature: bytes = b"") -> str:
    def seg(obj: dict) -> str:
        return b64url_encode(json.dumps(obj, separators=(",", ":")).encode())
    return f"{seg(header)}.{seg(claims)}.{b64url_encode(signature)}"


class Response(NamedTuple):
    status: int
    headers: dict  # lower-case names
    body: Any      # parsed JSON for JSON content types, else text; None when empty
    raw: bytes = b""  # the body as received


def describe(resp: Response) -> str:
    body = resp.body if not isinstance(resp.body, str) else resp.body[:2000]
    return f"HTTP {resp.status} headers={resp.headers} body={body!r}"


def _to_response(resp: http.client.HTTPResponse, data: bytes) -> Response:
    headers: dict[str, str] = {}
    for name, value in resp.getheaders():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    ctype = headers.get("content-type", "")
    body: Any
    if not data:
        body = None
    elif "json" in ctype:
        try:
            body = json.loads(data)
        except ValueError:
            body = data.decode("utf-8", "replace")
    else:
        body = data.decode("utf-8", "replace")
    return Response(resp.status, headers, body, data)


def media_type(resp: Response) -> str:
    return resp.headers.get("content-type", "").split(";")[0].strip().lower()


def assert_json(resp: Response, status: int) -> Any:
    assert resp.status == status, describe(resp)
    assert media_type(resp) == "application/json", describe(resp)
    return resp.body


def assert_problem(resp: Response, status: int, slug: str | tuple[str, ...] | None = None) -> dict:
    """Asserts an RFC 9457 problem as the contract shapes it and returns its body."""
    assert resp.status == status, describe(resp)
    assert media_type(resp) == PROBLEM_CT, describe(resp)
    body = resp.body
    assert isinstance(body, dict), describe(resp)
    for key in ("type", "title", "status", "detail", "request_id"):
        assert key in body, f"problem lacks {key!r}: {describe(resp)}"
    assert body["status"] == status, describe(resp)
    assert isinstance(body["type"], str) and body["type"].startswith(PROBLEM_PREFIX), describe(resp)
    assert isinstance(body["title"], str) and body["title"], describe(resp)
    assert isinstance(body["detail"], str), describe(resp)
    assert body["request_id"] == resp.headers.get("x-request-id"), describe(resp)
    if slug is not None:
        slugs = (slug,) if isinstance(slug, str) else slug
        assert body["type"] in {PROBLEM_PREFIX + s for s in slugs}, describe(resp)
    if "errors" in body:
        assert isinstance(body["errors"], list), describe(resp)
        for err in body["errors"]:
            assert isinstance(err, dict) and isinstance(err.get("field"), str) \
                and isinstance(err.get("message"), str), describe(resp)
    return body


def error_fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors") or [] if isinstance(e, dict) and "field" in e}


def assert_field_error(resp: Response, field: str, message: str | None = None) -> dict:
    """400 validation problem whose `errors` names `field` (and, if given, with that message)."""
    body = assert_problem(resp, 400, "validation-error")
    assert field in error_fields(body), f"errors do not name {field!r}: {describe(resp)}"
    if message is not None:
        messages = {e["message"] for e in body["errors"] if e.get("field") == field}
        assert message in messages, describe(resp)
    return body


def assert_bearer_challenge(resp: Response, invalid_token: bool) -> None:
    assert_problem(resp, 401, "unauthorized")
    challenge = resp.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), describe(resp)
    if invalid_token:
        assert 'error="invalid_token"' in challenge, describe(resp)
    else:
        assert "error=" not in challenge, describe(resp)


def etag_for(version: int) -> str:
    return f'"{version}"'


# --------------------------------------------------------------------------------------------
# the process under test


@dataclasses.dataclass
class Account:
    id: str
    email: str
    password: str
    customer: dict
    tokens: dict | None = None

    @property
    def token(self) -> str:
        assert self.tokens is not None, "account was registered with login=False"
        return self.tokens["access_token"]


class Endpoint:
    """Where the suite sends its requests (a process, or the split shape's gateway), and the
    identities it uses there. Subclasses set host, port, the bootstrap operator and the service
    client."""

    host: str
    port: int
    operator_email: str
    operator_password: str
    client_id: str
    client_secret: str
    _operator_tokens: tuple[float, dict] | None

    def processes(self) -> list["Endpoint"]:
        """The processes behind this endpoint, each reachable directly (operational endpoints)."""
        return [self]

    # -- HTTP --------------------------------------------------------------------------------

    def connection(self, timeout: float = HTTP_TIMEOUT_S) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | str | None = None,
             content_type: str | None = "application/json",
             timeout: float = HTTP_TIMEOUT_S) -> Response:
        """One request on a fresh connection.

        body is JSON-encoded; raw is sent as is (instead of body). content_type is sent only
        with a payload; None sends none. headers are applied last (they can override).
        """
        payload: bytes | None = None
        if raw is not None:
            payload = raw.encode("utf-8") if isinstance(raw, str) else raw
        elif body is not None:
            payload = json.dumps(body).encode("utf-8")
        hdrs: dict[str, str] = {}
        if payload is not None and content_type is not None:
            hdrs["Content-Type"] = content_type
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=payload, headers=hdrs)
            resp = conn.getresponse()
            return _to_response(resp, resp.read())
        finally:
            conn.close()

    def raw_exchange(self, head: bytes, body_chunks: list[bytes] | tuple[bytes, ...] = (),
                     method: str = "GET", timeout: float = HTTP_TIMEOUT_S) -> Response:
        """Writes bytes on a raw socket and parses one response.

        A server may answer (413, 431) and close before reading everything we send, so write
        errors are tolerated; the response is what counts.
        """
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            try:
                sock.sendall(head)
                for chunk in body_chunks:
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            resp = http.client.HTTPResponse(sock, method=method)
            resp.begin()
            data = resp.read()
            return _to_response(resp, data)
        finally:
            sock.close()

    def request_head(self, method: str, path: str, headers: dict[str, str]) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def form(self, path: str, fields: dict[str, str] | list[tuple[str, str]],
             headers: dict[str, str] | None = None,
             content_type: str | None = "application/x-www-form-urlencoded") -> Response:
        return self.call("POST", path, raw=urllib.parse.urlencode(fields).encode("ascii"),
                         headers=headers, content_type=content_type)

    def token_request(self, fields: dict[str, str], headers: dict[str, str] | None = None
                      ) -> Response:
        return self.form("/oauth/token", fields, headers=headers)

    # -- identities --------------------------------------------------------------------------

    def login(self, email: str, password: str) -> dict:
        resp = self.token_request({"grant_type": "password", "username": email,
                                   "password": password})
        assert resp.status == 200, describe(resp)
        return resp.body

    def operator_token(self) -> str:
        now = time.monotonic()
        if self._operator_tokens is None or now - self._operator_tokens[0] > 600:
            self._operator_tokens = (now, self.login(self.operator_email, self.operator_password))
        return self._operator_tokens[1]["access_token"]

    def service_token(self) -> str:
        resp = self.token_request({"grant_type": "client_credentials",
                                   "client_id": self.client_id,
                                   "client_secret": self.client_secret})
        assert resp.status == 200, describe(resp)
        return resp.body["access_token"]

    def register_customer(self, email: str | None = None, password: str | None = None,
                          name: str = "Integration Tester", phone: str | None = None,
                          login: bool = True) -> Account:
        email = email or unique_email()
        password = password or strong_password()
        body = {"email": email, "password": password, "name": name}
        if phone is not None:
            body["phone"] = phone
        resp = self.call("POST", "/api/v1/customers", body)
        assert resp.status == 201, describe(resp)
        account = Account(id=resp.body["id"], email=resp.body["email"], password=password,
                          customer=resp.body)
        if login:
            account.tokens = self.login(account.email, password)
        return account

    def get_customer(self, customer_id: str, token: str | None = None) -> dict:
        """Reads a customer back (as operator unless a token is given); asserts 200."""
        resp = self.call("GET", f"/api/v1/customers/{customer_id}",
                         token=token or self.operator_token())
        assert resp.status == 200, describe(resp)
        return resp.body

    def search_by_email(self, email: str) -> list[dict]:
        query = urllib.parse.urlencode({"email": email})
        resp = self.call("GET", f"/api/v1/customers?{query}", token=self.operator_token())
        assert resp.status == 200, describe(resp)
        return resp.body["data"]



class Server(Endpoint):
    """One deliveryhub process on 127.0.0.1:<ephemeral>, SQLite in a temp dir (or a fresh
    PostgreSQL database, see DELIVERYHUB_TEST_POSTGRES)."""

    def __init__(self, extra_args: list[str] | tuple[str, ...] = (),
                 extra_env: dict[str, str] | None = None, replica_of: "Server | None" = None,
                 database_url: str | None = None) -> None:
        """replica_of: run as another replica of that server: same database, same operator and
        service client, same JWT signing key (so tokens from either are good on both).
        database_url: this database instead of a fresh one (tests/backup's restored PostgreSQL)."""
        self.binary = binary_path()
        self._tmp = tempfile.TemporaryDirectory(prefix="deliveryhub-it-")
        self.workdir = self._tmp.name
        self.db_path = os.path.join(self.workdir, "db.sqlite")  # used on SQLite only
        self.operator_email = OPERATOR_EMAIL
        self.operator_password = "Op-" + secrets.token_urlsafe(18)
        self.client_id = SERVICE_CLIENT_ID
        self.client_secret = secrets.token_hex(24)
        self.extra_args = list(extra_args)
        self.bus_args: list[str] = []
        if on_amqp():
            namespace = replica_of.bus_namespace if replica_of else "it-" + uuid.uuid4().hex[:12]
            self.bus_namespace = namespace
            self.bus_args = ["--bus", AMQP_URL, "--bus-namespace", namespace]
        if replica_of is None:
            self.database_url = database_url or fresh_database_url(self.db_path)
        else:
            self.database_url = replica_of.database_url
            self.operator_password = replica_of.operator_password
            self.client_secret = replica_of.client_secret
            self.extra_args += ["--jwt-key-file", replica_of.signing_key_path()]
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.host = ""
        self.port = 0
        self.returncode: int | None = None
        self.log_lines: list[str] = []   # every stdout line, raw
        self.logs: list[dict] = []       # the stdout lines that parsed as JSON objects
        self.stderr_lines: list[str] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._address: str | None = None
        self._threads: list[threading.Thread] = []
        self._operator_tokens: tuple[float, dict] | None = None

    def signing_key_path(self) -> str:
        """Where the process keeps its development JWT signing key (data/ beside SQLite's file)."""
        on_sqlite = self.database_url.startswith("sqlite:")
        folder = os.path.dirname(self.db_path) if on_sqlite else os.path.join(self.workdir, "data")
        return os.path.join(folder, "jwt-signing-key.pem")

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, wait_ready: bool = True) -> "Server":
        """Starts the process; again after kill(), on the same database."""
        self._listening.clear()
        self._address = None
        self._threads = []
        self.returncode = None
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            pytest.fail(f"deliveryhub binary not found or not executable: {self.binary} "
                        "(set DELIVERYHUB_BIN)")
        # Hermetic: no DELIVERYHUB_* setting leaks in from the caller's environment.
        env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
        env.update({
            "DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL": self.operator_email,
            "DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD": self.operator_password,
            # The suite is one client registering far more accounts than a person would; the
            # limit has its own test (a flag there overrides this).
            "DELIVERYHUB_REGISTRATIONS_PER_ADDRESS": "100000000",
        })
        env.update(self.extra_env)
        args = [self.binary, "serve",
                "--listen", "127.0.0.1:0",
                "--database", self.database_url,
                "--log-level", "info",
                "--client", f"{self.client_id}:{self.client_secret}:service:{SERVICE_CLIENT_ACTS_FOR}",
                *self.bus_args,
                *self.extra_args]
        started = time.monotonic()
        self.proc = subprocess.Popen(args, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for target, stream in ((self._drain_stdout, self.proc.stdout),
                               (self._drain_stderr, self.proc.stderr)):
            thread = threading.Thread(target=target, args=(stream,), daemon=True)
            thread.start()
            self._threads.append(thread)

        deadline = started + START_DEADLINE_S
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                self._join_readers()
                self.returncode = self.proc.returncode
                pytest.fail(f"deliveryhub exited with {self.proc.returncode} before listening:\n"
                            f"{self.output_tail()}")
            if time.monotonic() >= deadline:
                self._kill()
                pytest.fail(f"no 'listening' log line within {START_DEADLINE_S}s:\n"
                            f"{self.output_tail()}")
        address = self._address or ""
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit():
            self._kill()
            pytest.fail(f"'listening' line has no usable address: {address!r}")
        self.host = host.strip("[]")
        self.port = int(port)
        assert self.port != 0, "the listening line must carry the real ephemeral port"
        if wait_ready:
            remaining = max(0.5, deadline - time.monotonic())
            wait_for(lambda: self._probe("/readyz") == 200, remaining, "/readyz to answer 200")
        return self

    def _probe(self, path: str) -> int | None:
        try:
            return self.call("GET", path, timeout=2.0).status
        except OSError:
            return None

    def _drain_stdout(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            record = None
            try:
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    record = parsed
            except ValueError:
                pass
            with self._lock:
                self.log_lines.append(line)
                if record is not None:
                    self.logs.append(record)
            if record is not None and record.get("msg") == "listening" \
                    and not self._listening.is_set():
                self._address = str(record.get("address", ""))
                self._listening.set()
        stream.close()

    def _drain_stderr(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            with self._lock:
                self.stderr_lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
        stream.close()

    def _join_readers(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)

    def kill(self) -> int:
        """SIGKILL, as a crash: no drain, no flush. The temp dir and database stay for start()."""
        assert self.proc is not None and self.proc.poll() is None, "server is not running"
        self.proc.kill()
        self.returncode = self.proc.wait(timeout=10)
        self._join_readers()
        return self.returncode

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # our own child, by its handle
            self.proc.wait(timeout=10)
        self._join_readers()

    def output_tail(self, lines: int = 60) -> str:
        with self._lock:
            out = self.log_lines[-lines:]
            err = self.stderr_lines[-lines:]
        return "--- stdout ---\n" + "\n".join(out) + "\n--- stderr ---\n" + "\n".join(err)

    def log_records(self) -> list[dict]:
        with self._lock:
            return list(self.logs)

    def send_signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None and self.proc.poll() is None, "server is not running"
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = STOP_DEADLINE_S) -> int | None:
        """Waits for the process to exit; None if it is still running at the deadline."""
        assert self.proc is not None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._join_readers()
        return self.returncode

    def stop(self, timeout: float = STOP_DEADLINE_S, check: bool = True) -> int | None:
        """SIGTERM, wait up to timeout, assert exit code 0 (unless check=False). Idempotent."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.wait_exit(timeout)
            if rc is None:
                self._kill()
                self._cleanup()
                if check:
                    pytest.fail(f"deliveryhub did not exit within {timeout}s of SIGTERM:\n"
                                f"{self.output_tail()}")
                return None
        else:
            self._join_readers()
        self.returncode = rc
        self._cleanup()
        if check:
            assert rc == 0, f"deliveryhub exited with {rc}:\n{self.output_tail()}"
        return rc

    def _cleanup(self) -> None:
        try:
            self._tmp.cleanup()
        except OSError:
            pass

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


# --------------------------------------------------------------------------------------------
# the shape under test: one process, or the split shape through its gateway


def new_shape(**kwargs) -> Endpoint:
    """A Server, or with DELIVERYHUB_TEST_SPLIT a SplitShape taking the same arguments."""
    if not in_split():
        return Server(**kwargs)
    from split_shape import SplitShape  # imports this module: only when needed
    return SplitShape(**kwargs)


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def server():
    """One server per test module (each module gets a fresh database)."""
    srv = new_shape()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def make_server():
    """Factory for tests that need a server of their own; leftovers are stopped (exit 0)."""
    started: list[Endpoint] = []

    def factory(**kwargs) -> Endpoint:
        srv = new_shape(**kwargs)
        started.append(srv)
        return srv.start()

    yield factory
    for srv in started:
        srv.stop()


# --------------------------------------------------------------------------------------------
# contract check with Stoplight Prism (tests/contract/README.md). Off unless
# DELIVERYHUB_TEST_PRISM=1 (tests/contract/run_prism.sh sets it): then `Endpoint.call` sends each
# request through a `prism proxy` that checks it and the server's response against
# docs/openapi.yaml, and the run fails on violations. Everything else stays direct.

if os.environ.get("DELIVERYHUB_TEST_PRISM", "") == "1":
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "contract"))
    import prism_proxy

    prism_proxy.install(Endpoint)  # and pytest_configure, below, registers its report plugin


# --------------------------------------------------------------------------------------------
# which shapes run a test (tests/README.md). Every test runs in the one-process SQLite run; a
# reason marker makes it run in another shape too, whose ctest entry selects it with `-m`. A file's
# closing checks (`test_zz_*`: still alive, no sanitizer report) carry no marker: they run
# wherever another test of their file runs. tests/arch/test_markers_lint.py reads this table.

# marker: (the other shapes that run it, what the test's assertions depend on)
SHAPE_MARKERS = {
    "storage": (("postgresql",), "concurrent writers on the same rows, a uniqueness or single-use rule, "
                                 "keyset paging with a cursor, or the database itself"),
    "replicas": (("postgresql", "amqp"), "several processes on one database (make_server(replica_of=...))"),
    "crash": (("postgresql", "amqp", "split"), "a process killed (kill()) and started again on the same database"),
    "bus": (("amqp",), "an effect applied by another module's event consumer, or event metrics"),
    "broker": (("amqp",), "RabbitMQ itself: messages the test publishes, the DLQ, the broker stopped"),
    "remote": (("split",), "a call from one module to another, or what another process knows or reports"),
    "gateway": (("split",), "an answer the gateway gives or changes: raw or oversized requests, odd paths "
                            "and methods, /livez, X-Request-Id, X-Forwarded-*, X-Deliveryhub-* headers"),
    "walkthrough": (("postgresql", "amqp", "split"), "a documented end-to-end journey, or a sweep of every operation"),
}
EPILOGUE_PREFIX = "test_zz_"


def pytest_configure(config):
    for name, (shapes, meaning) in SHAPE_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning} (also runs in: {', '.join(shapes)})")
    # --strict-markers: a misspelt marker fails the collection instead of quietly selecting nothing.
    config.option.strict_markers = True
    if os.environ.get("DELIVERYHUB_TEST_PRISM", "") == "1":
        prism_proxy.register(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """`-m`, with one addition: a file's epilogue (`test_zz_*`) stays selected while any other test of
    its file is. The expression is applied here, with pytest's own grammar, and then cleared, so
    that pytest's `-m` (which runs after this hook) deselects nothing more and its counts stay right."""
    markexpr = config.option.markexpr
    if not markexpr:
        return
    from _pytest.mark.expression import Expression, ParseError  # what pytest's -m uses
    try:
        expression = Expression.compile(markexpr)
    except ParseError as e:
        raise pytest.UsageError(f"Wrong expression passed to '-m': {markexpr}: {e}") from None

    def epilogue(item) -> bool:
        return getattr(item, "originalname", item.name).startswith(EPILOGUE_PREFIX)

    def matches(item) -> bool:
        names = {mark.name for mark in item.iter_markers()}
        return expression.evaluate(lambda name: name in names)

    files = {item.path for item in items if not epilogue(item) and matches(item)}
    keep = [item.path in files if epilogue(item) else matches(item) for item in items]
    config.option.markexpr = ""
    deselected = [item for item, kept in zip(items, keep) if not kept]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item, kept in zip(items, keep) if kept]
