"""Contract check of the black-box suite's traffic with Stoplight Prism (tests/contract/README.md).

Loaded by tests/integration/conftest.py when DELIVERYHUB_TEST_PRISM=1. Then every request the
suite sends with `Endpoint.call` goes through one `prism proxy docs/openapi.yaml` for the whole
session, which validates the request and the response against the document and reports what it
finds in its `sl-violations` response header. Prism forwards to a relay in this process, and the
relay sends the suite's own request, byte for byte, to the server the test addressed and keeps the
server's response, byte for byte. The test gets that response, not Prism's re-serialized copy:
Prism only watches. At the end of the session every violation that the allow-list
(known_violations.py) does not excuse is listed and fails the run.

Standard library and python3-yaml (plus Prism itself, pinned in tools/prism).
"""
from __future__ import annotations

import collections
import dataclasses
import http.client
import http.server
import io
import itertools
import json
import os
import re
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from typing import Any

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DOCUMENT = os.environ.get("DELIVERYHUB_PRISM_DOCUMENT", os.path.join(ROOT, "docs", "openapi.yaml"))
PRISM_BIN = os.environ.get("DELIVERYHUB_PRISM_BIN",
                           os.path.join(ROOT, "tools", "prism", "node_modules", ".bin", "prism"))
REPORT_PATH = os.environ.get("DELIVERYHUB_PRISM_REPORT", "")
PRISM_START_DEADLINE_S = 60.0
TOKEN_HEADER = "X-Contract-Token"
# Paths the document leaves out on purpose: the modules' service-to-service API (ADR 0014), which
# the gateway does not route. A 2xx there is not an undocumented public route.
UNDOCUMENTED_PREFIXES = ("/internal/",)

# --------------------------------------------------------------------------------------------
# what Prism can carry


# The methods Prism's HTTP server takes and forwards as they are.
PRISM_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# A media type as the `content-type` package parses it; anything else makes Prism answer 500.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE_RE = re.compile(rf"^{_TOKEN}/{_TOKEN}(\s*;\s*{_TOKEN}=({_TOKEN}|\"([^\"\\]|\\.)*\"))*\s*$")
# Path characters the WHATWG URL parser keeps as they are; Prism validates the normalized path.
_PATH_RE = re.compile(r"^(/[A-Za-z0-9\-._~!$&'()*+,;=:@%]*)+$")
_HEADER_VALUE_RE = re.compile(r"^[\x20-\x7e\t]*$")
_ENCODED_SEPARATOR_RE = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)
MAX_BODY = 9 * 1024 * 1024        # Prism's body parser stops at 10 MB with its own 413
MAX_HEADER_BYTES = 12 * 1024      # Node's HTTP server stops at 16 KiB with its own 431
TRANSPORT_HEADERS = {"transfer-encoding", "connection", "expect", "upgrade", "te", "trailer",
                     "keep-alive", "content-length", "content-encoding", "proxy-connection"}
# What one module sends another (ADR 0014), not part of the public API the document describes
# (the gateway strips it): a remaining deadline, at 0 answered 503 before any work.
MODULE_HEADERS = {"x-deliveryhub-deadline-ms"}


def _is_json_media_type(value: str) -> bool:
    essence = value.split(";", 1)[0].strip().lower()
    return essence == "application/json" or (essence.startswith("application/")
                                             and essence.endswith("+json"))


_MALFORMED = object()


def _json_value(payload: bytes) -> Any:
    """The value JSON.parse would make of it, or _MALFORMED (Python's parser is laxer: NaN,
    Infinity; JSON.parse refuses a byte order mark)."""
    if payload.startswith(b"\xef\xbb\xbf"):
        return _MALFORMED
    def refuse(_constant: str) -> Any:
        raise ValueError("not JSON")
    try:
        return json.loads(payload.decode("utf-8"), parse_constant=refuse)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _MALFORMED


def bypass_reason(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> str | None:
    """Why this request cannot go through Prism (it would answer it itself, or validate another
    request than the server gets), or None when it can."""
    if method not in PRISM_METHODS:
        return f"method {method}"
    path = url.split("?", 1)[0]
    if not _PATH_RE.match(path) or "//" in path or any(seg in (".", "..") for seg in path.split("/")):
        return "path Prism would normalize"
    if _ENCODED_SEPARATOR_RE.search(path):
        # The server refuses these before any route is chosen (the document's conventions);
        # Prism would match them to an operation they never reach.
        return "path with an encoded '/', '\\' or '.'"
    lowered = {k.lower(): v for k, v in headers.items()}
    if TRANSPORT_HEADERS & lowered.keys() or "host" in lowered:
        return "transport-level header"
    if MODULE_HEADERS & lowered.keys():
        return "module-to-module header"
    size = len(url)
    for name, value in headers.items():
        if not _HEADER_VALUE_RE.match(str(value)):
            return "header value outside visible ASCII"
        size += len(name) + len(str(value)) + 4
    if size > MAX_HEADER_BYTES:
        return "headers over Node's limit"
    if body:
        if method in ("GET", "HEAD"):
            return "GET/HEAD with a body"
        if len(body) > MAX_BODY:
            return "body over Prism's limit"
        ctype = lowered.get("content-type")
        if ctype is not None:
            if not _MEDIA_TYPE_RE.match(ctype):
                return "unparsable Content-Type"
            if _is_json_media_type(ctype):
                parsed = _json_value(body)
                if parsed is _MALFORMED:
                    return "malformed JSON body"
                falsy = parsed is None or (isinstance(parsed, (bool, int, float, str)) and not parsed)
                if falsy and method not in ("POST", "PUT"):
                    # null, false, 0, "": Prism forwards no body but the client's Content-Length
                    return "falsy JSON body on " + method
    return None


# --------------------------------------------------------------------------------------------
# the relay: Prism's upstream; sends the suite's own bytes to the addressed server


@dataclasses.dataclass
class Exchange:
    token: str
    nodeid: str
    host: str
    port: int
    method: str
    target: str           # path and query as sent
    request_raw: bytes    # the request exactly as a direct call would have sent it
    timeout: float
    response_raw: bytes = b""
    status: int | None = None
    error: BaseException | None = None
    relayed: threading.Event = dataclasses.field(default_factory=threading.Event)


class _TeeReader(io.RawIOBase):
    """Reads a socket and keeps every byte read."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.seen = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._sock.recv_into(buffer)
        self.seen += bytes(buffer[:n])
        return n


class _TeeSocket:
    def __init__(self, sock: socket.socket) -> None:
        self.reader = _TeeReader(sock)

    def makefile(self, mode: str, *args, **kwargs):
        assert "r" in mode
        return io.BufferedReader(self.reader)


class _BytesSocket:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str, *args, **kwargs):
        return io.BufferedReader(io.BytesIO(self._data))


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def _relay(exchange: Exchange) -> tuple[int, list[tuple[str, str]], bytes]:
    """Sends the exchange's request to its server on a fresh connection and reads the whole
    response. Returns what Prism gets: status, headers, decoded body."""
    sock = socket.create_connection((exchange.host, exchange.port), timeout=exchange.timeout)
    try:
        send_error: BaseException | None = None
        try:
            sock.sendall(exchange.request_raw)
        except (BrokenPipeError, ConnectionResetError) as exc:
            send_error = exc  # a server may answer (413) and close before reading it all
        tee = _TeeSocket(sock)
        resp = http.client.HTTPResponse(tee, method=exchange.method)  # type: ignore[arg-type]
        try:
            resp.begin()
            body = resp.read()
        except (http.client.HTTPException, OSError):
            if send_error is not None:
                raise send_error
            raise
        exchange.response_raw = bytes(tee.reader.seen)
        exchange.status = resp.status
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
        if resp.status not in (204, 304) and exchange.method != "HEAD":
            headers.append(("Content-Length", str(len(body))))
        return resp.status, headers, body
    finally:
        sock.close()


class _RelayHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_RelayServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:  # Prism's copy of the body (the server gets the suite's): read it off the wire
            self.connection.settimeout(2.0)
            try:
                self.rfile.read(length)
            except OSError:  # announced but not sent: this connection cannot be reused
                self.close_connection = True
            finally:
                self.connection.settimeout(None)
        token = self.headers.get(TOKEN_HEADER, "")
        exchange = self.server.registry.get(token)
        if exchange is None:
            self._reply(500, [("X-Contract-Relay", "unknown token")], b"")
            return
        try:
            status, headers, body = _relay(exchange)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            exchange.error = exc
            exchange.relayed.set()
            self._reply(502, [("X-Contract-Relay", type(exc).__name__)], b"")
            return
        exchange.relayed.set()
        self._reply(status, headers, body)

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        reason = http.client.responses.get(status, "Status")
        out = [f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")]
        out += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers]
        if self.close_connection:
            out.append(b"Connection: close\r\n")
        if status in (502, 500) and not any(k.lower() == "content-length" for k, _ in headers):
            out.append(b"Content-Length: 0\r\n")
        out.append(b"\r\n")
        self.wfile.write(b"".join(out) + (b"" if self.command == "HEAD" else body))
        self.wfile.flush()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle


class _RelayServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, registry: "Registry") -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.registry = registry


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Exchange] = {}
        self._ids = itertools.count(1)

    def new_token(self) -> str:
        return f"t{next(self._ids)}-{os.getpid()}"

    def put(self, exchange: Exchange) -> None:
        with self._lock:
            self._items[exchange.token] = exchange

    def get(self, token: str) -> Exchange | None:
        with self._lock:
            return self._items.get(token)

    def pop(self, token: str) -> None:
        with self._lock:
            self._items.pop(token, None)


# --------------------------------------------------------------------------------------------
# the Prism process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Prism:
    """`prism proxy docs/openapi.yaml http://127.0.0.1:<relay>` on 127.0.0.1:<free port>, without
    --errors (see README.md: with it, Prism answers the suite's deliberately invalid requests
    itself), without CORS headers, logging warnings and errors to a file."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._tmp = tempfile.TemporaryDirectory(prefix="deliveryhub-prism-")
        self.log_path = os.path.join(self._tmp.name, "prism.log")

    def start(self) -> "Prism":
        if not os.access(PRISM_BIN, os.X_OK):
            raise pytest.UsageError(f"Prism not installed at {PRISM_BIN}: run tests/contract/run_prism.sh "
                                    "(it installs the pinned version with npm ci)")
        if shutil.which("node") is None:
            raise pytest.UsageError("node not found (scripts/install-deps.sh installs it)")
        for _attempt in range(3):
            self.port = _free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [PRISM_BIN, "proxy", DOCUMENT, f"http://127.0.0.1:{self.upstream_port}",
                     "--host", "127.0.0.1", "--port", str(self.port), "--cors=false",
                     "--verboseLevel", "warn"],
                    cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + PRISM_START_DEADLINE_S
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            self.stop()
        raise RuntimeError(f"prism proxy did not start:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "\n".join(f.read().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # our own child, by its handle
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# the document's operations (for the report)


class Operations:
    def __init__(self, document_path: str) -> None:
        import yaml  # python3-yaml, as the fuzz suite uses
        with open(document_path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        self.routes: list[tuple[re.Pattern, str, dict[str, str]]] = []
        for template, item in (doc.get("paths") or {}).items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            methods = {m.upper(): (op or {}).get("operationId", "")
                       for m, op in item.items() if m in ("get", "put", "post", "patch", "delete",
                                                          "head", "options")}
            self.routes.append((re.compile(pattern), template, methods))
        # literal segments win over templated ones (/couriers/me/deliveries vs /couriers/{id})
        self.routes.sort(key=lambda r: r[1].count("{"))

    def find(self, method: str, path: str) -> tuple[str, str] | None:
        """(template, operationId) of the documented operation, or None."""
        for pattern, template, methods in self.routes:
            if pattern.match(path):
                if method in methods:
                    return template, methods[method]
                return None
        return None


# --------------------------------------------------------------------------------------------
# findings


@dataclasses.dataclass
class Record:
    nodeid: str
    method: str
    target: str
    status: int | None
    operation: str               # "METHOD /template (operationId)" or "METHOD <undocumented path>"
    violations: list[dict]
    request_excerpt: str
    response_excerpt: str


@dataclasses.dataclass
class Finding:
    kind: str        # response | accepted-invalid-request | undocumented-route
    record: Record
    violation: dict

    @property
    def where(self) -> str:
        return ".".join(str(p) for p in self.violation.get("location", []))

    def line(self) -> str:
        r = self.record
        return (f"[{self.kind}] {r.operation} -> {r.status}: {self.where}: "
                f"{self.violation.get('message')}")


TRUNCATED_PREFIX = "Too many violations! "


def parse_violations(header: str | None) -> tuple[list[dict], bool]:
    """The violations in an `sl-violations` header, and whether Prism cut the list short (it
    keeps the first 8 KiB after "Too many violations! "; the request's come first)."""
    if not header:
        return [], False
    truncated = header.startswith(TRUNCATED_PREFIX)
    text = header[len(TRUNCATED_PREFIX):] if truncated else header
    try:
        parsed = json.loads(text)
        return (parsed if isinstance(parsed, list) else [{"message": str(parsed)}]), truncated
    except ValueError:
        pass
    items: list[dict] = []
    decoder = json.JSONDecoder()
    pos = text.find("[") + 1
    while 0 < pos < len(text):
        while pos < len(text) and text[pos] in ", \t":
            pos += 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        if isinstance(item, dict):
            items.append(item)
    return items, True


def _excerpt(data: bytes, limit: int) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(data)} bytes)"


def _split_raw(raw: bytes) -> tuple[str, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


class Collector:
    def __init__(self, operations: Operations, known: list) -> None:
        self.operations = operations
        self.known = known
        self.lock = threading.Lock()
        self.nodeid = "<session>"
        self.checked = 0
        self.bypassed: collections.Counter = collections.Counter()
        self.not_forwarded: list[str] = []
        self.findings: list[Finding] = []
        self.excused: collections.Counter = collections.Counter()   # known entry index -> count
        self.rejected_invalid = 0                                   # 4xx for requests Prism also calls invalid
        self.server_only_rejections: collections.Counter = collections.Counter()
        self.server_only_samples: dict[str, dict] = {}
        self.undocumented_seen: collections.Counter = collections.Counter()
        self.truncated: collections.Counter = collections.Counter()

    def operation_of(self, method: str, path: str) -> str:
        found = self.operations.find(method, path)
        if found is None:
            return f"{method} {path} (undocumented)"
        template, op_id = found
        return f"{method} {template} ({op_id})"

    def bypass(self, reason: str) -> None:
        with self.lock:
            self.bypassed[reason] += 1

    def prism_refused(self, method: str, target: str, status: int, body: bytes) -> None:
        with self.lock:
            self.not_forwarded.append(f"{self.nodeid}: {method} {target}: Prism answered {status} itself: "
                                      f"{_excerpt(body, 300)}")

    def add(self, exchange: Exchange, violations_header: str | None) -> None:
        violations, truncated = parse_violations(violations_header)
        path = exchange.target.split("?", 1)[0]
        head, body = _split_raw(exchange.request_raw)
        resp_head, resp_body = _split_raw(exchange.response_raw)
        record = Record(nodeid=exchange.nodeid, method=exchange.method, target=exchange.target,
                        status=exchange.status, operation=self.operation_of(exchange.method, path),
                        violations=violations,
                        request_excerpt=head.split("\r\n", 1)[0] + "\n" + _excerpt(body, 600),
                        response_excerpt=resp_head + "\n\n" + _excerpt(resp_body, 1200))
        status = exchange.status or 0
        request_side = [v for v in violations if (v.get("location") or [""])[0] == "request"]
        response_side = [v for v in violations if (v.get("location") or [""])[0] == "response"]
        no_route = [v for v in request_side if "route not found" in str(v.get("message", "")).lower()
                    or "route not resolved" in str(v.get("message", "")).lower()]
        findings: list[Finding] = []
        if no_route:
            if status < 400 and not path.startswith(UNDOCUMENTED_PREFIXES):
                findings.append(Finding("undocumented-route", record, no_route[0]))
        else:
            if status < 400:
                findings += [Finding("accepted-invalid-request", record, v) for v in request_side]
            findings += [Finding("response", record, v) for v in response_side]
        with self.lock:
            self.checked += 1
            if truncated:
                self.truncated[f"{record.operation} -> {status}"] += 1
            if no_route:
                self.undocumented_seen[f"{exchange.method} {path} -> {status}"] += 1
            elif 400 <= status < 500:
                if request_side:
                    self.rejected_invalid += 1
                else:
                    slug = ""
                    try:
                        slug = str(json.loads(resp_body).get("type", "")).rsplit(":", 1)[-1]
                    except (ValueError, AttributeError):
                        pass
                    key = f"{record.operation} -> {status} {slug}".rstrip()
                    self.server_only_rejections[key] += 1
                    self.server_only_samples.setdefault(key, dataclasses.asdict(record))
            for finding in findings:
                index = self._excuse(finding)
                if index is None:
                    self.findings.append(finding)
                else:
                    self.excused[index] += 1

    def _excuse(self, finding: Finding) -> int | None:
        for index, known in enumerate(self.known):
            if known.matches(finding):
                return index
        return None


# --------------------------------------------------------------------------------------------
# the connection `Endpoint.call` uses while the check is on


class _Session:
    """The relay, Prism and collector of one pytest session."""

    registry: Registry
    relay: _RelayServer
    prism: Prism
    collector: Collector


SESSION: _Session | None = None


def start_session(known: list) -> _Session:
    """Starts the relay and Prism, and routes `Endpoint.call` through them (see install)."""
    global SESSION
    session = _Session()
    session.registry = Registry()
    session.relay = _RelayServer(session.registry)
    threading.Thread(target=session.relay.serve_forever, name="prism-relay", daemon=True).start()
    try:
        session.prism = Prism(session.relay.server_address[1]).start()
    except BaseException:
        session.relay.shutdown()
        raise
    session.collector = Collector(Operations(DOCUMENT), known)
    SESSION = session
    return session


def stop_session(session: _Session) -> bool:
    """Stops routing, Prism and the relay; False when Prism had died on its own."""
    global SESSION
    SESSION = None
    alive = session.prism.running()
    session.prism.stop()
    session.relay.shutdown()
    session.relay.server_close()
    return alive


def _seconds(timeout: Any) -> float:
    return float(timeout) if isinstance(timeout, (int, float)) else 30.0


class RoutingConnection(http.client.HTTPConnection):
    """What `Endpoint.connection` returns inside `Endpoint.call`: sends the request through Prism
    when Prism can carry it (else straight to the server, as before) and answers with the
    server's own response."""

    def request(self, method, url, body=None, headers=None, *, encode_chunked=False):  # noqa: D401
        headers = dict(headers or {})
        payload = body.encode("utf-8") if isinstance(body, str) else body
        self._exchange: Exchange | None = None
        session = SESSION
        reason = bypass_reason(method, url, payload, headers) if session else "check off"
        if reason is not None or encode_chunked or not isinstance(payload, (bytes, type(None))):
            if session is not None:
                session.collector.bypass(reason or "streamed body")
            return super().request(method, url, body=body, headers=headers, encode_chunked=encode_chunked)
        assert session is not None
        # The request exactly as a direct call would send it (Host: the server's address).
        capture = _CaptureConnection(self.host, self.port)
        capture.request(method, url, body=payload, headers=headers)
        exchange = Exchange(token=session.registry.new_token(), nodeid=session.collector.nodeid,
                            host=self.host, port=self.port, method=method, target=url,
                            request_raw=bytes(capture.sent), timeout=_seconds(self.timeout))
        session.registry.put(exchange)
        self._exchange = exchange
        self._session = session
        self._via = http.client.HTTPConnection("127.0.0.1", session.prism.port,
                                               timeout=_seconds(self.timeout) + 10.0)
        self._via.request(method, url, body=payload, headers={**headers, TOKEN_HEADER: exchange.token})

    def getresponse(self):
        exchange = self._exchange
        if exchange is None:
            return super().getresponse()
        session = self._session
        try:
            try:
                via = self._via.getresponse()
                prism_body = via.read()
            finally:
                self._via.close()
            if not exchange.relayed.is_set():
                # Prism answered itself without forwarding (a case bypass_reason missed): send the
                # request to the server directly instead, and report it.
                session.collector.prism_refused(exchange.method, exchange.target, via.status, prism_body)
                _relay(exchange)
            elif exchange.error is not None:
                raise exchange.error  # what a direct call would have raised (refused, reset, timeout)
            else:
                session.collector.add(exchange, via.getheader("sl-violations"))
            resp = http.client.HTTPResponse(_BytesSocket(exchange.response_raw),  # type: ignore[arg-type]
                                            method=exchange.method)
            resp.begin()
            return resp
        finally:
            session.registry.pop(exchange.token)


class _CaptureConnection(http.client.HTTPConnection):
    """http.client's own request bytes, kept instead of sent."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.sent = bytearray()

    def send(self, data) -> None:
        self.sent += data


def install(endpoint_cls: type) -> None:
    """Makes `endpoint_cls.call` use a RoutingConnection. `connection()` called by tests
    themselves, `raw_exchange` and `host`/`port` stay direct: they test the server's own sockets."""
    original_call = endpoint_cls.call
    original_connection = endpoint_cls.connection
    inside = threading.local()

    def call(self, *args, **kwargs):
        inside.depth = getattr(inside, "depth", 0) + 1
        try:
            return original_call(self, *args, **kwargs)
        finally:
            inside.depth -= 1

    def connection(self, *args, **kwargs):
        conn = original_connection(self, *args, **kwargs)
        if getattr(inside, "depth", 0) and SESSION is not None:
            return RoutingConnection(conn.host, conn.port, timeout=conn.timeout)
        return conn

    call.__doc__ = original_call.__doc__
    endpoint_cls.call = call
    endpoint_cls.connection = connection


# --------------------------------------------------------------------------------------------
# the pytest plugin


class Plugin:
    def __init__(self) -> None:
        self.session: _Session | None = None
        self.started = 0.0

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config) -> None:
        if os.environ.get("DELIVERYHUB_TEST_SPLIT", "") == "1":
            raise pytest.UsageError("DELIVERYHUB_TEST_PRISM checks one process; not with DELIVERYHUB_TEST_SPLIT")
        from known_violations import KNOWN
        self.started = time.monotonic()
        self.session = start_session(KNOWN)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if self.session is not None:
            self.session.collector.nodeid = item.nodeid
        yield

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        s = self.session
        if s is None:
            return
        s.collector.nodeid = "<session end>"
        alive = stop_session(s)
        if REPORT_PATH:
            self._write_report(REPORT_PATH)
        if (s.collector.findings or s.collector.not_forwarded or not alive) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        self.prism_died = not alive

    def pytest_terminal_summary(self, terminalreporter) -> None:
        s = self.session
        if s is None:
            return
        c = s.collector
        tr = terminalreporter
        tr.section(f"contract check (Stoplight Prism, {os.path.relpath(DOCUMENT, ROOT)})")
        tr.line(f"{c.checked} exchanges checked through Prism in {time.monotonic() - self.started:.0f} s; "
                f"{sum(c.bypassed.values())} sent directly "
                f"({', '.join(f'{n} {r}' for r, n in c.bypassed.most_common()) or 'none'})")
        tr.line(f"{c.rejected_invalid} 4xx answers to requests Prism also calls invalid (the suite's "
                "deliberate rejections)")
        if c.excused:
            tr.line("known violations (tests/contract/known_violations.py):")
            for index, count in sorted(c.excused.items()):
                tr.line(f"  {count:5d} x {c.known[index].describe()}")
        unused = [k for i, k in enumerate(c.known) if i not in c.excused]
        if unused:
            tr.line("allow-list entries not met in this run (fixed, or their tests did not run):")
            for known in unused:
                tr.line(f"  - {known.describe()}")
        if c.truncated:
            tr.line("exchanges with more violations than Prism's header holds (their response was not "
                    "checked; the suite's deliberately huge invalid requests):")
            for key, count in sorted(c.truncated.items()):
                tr.line(f"  {count:5d} x {key}")
        if c.server_only_rejections:
            tr.line(f"{sum(c.server_only_rejections.values())} 4xx answers to requests the document allows "
                    "(tokens, business rules, states; informational: listed with an example each in "
                    "the DELIVERYHUB_PRISM_REPORT file)")
        if getattr(self, "prism_died", False):
            tr.line("PRISM EXITED DURING THE RUN:\n" + s.prism.log_tail(), red=True)
        for line in c.not_forwarded:
            tr.line(f"NOT FORWARDED: {line}", red=True)
        if not c.findings:
            tr.line("no new contract violations", green=True)
            return
        tr.line(f"{len(c.findings)} NEW CONTRACT VIOLATIONS:", red=True, bold=True)
        groups: dict[str, list[Finding]] = collections.defaultdict(list)
        for finding in c.findings:
            groups[finding.line()].append(finding)
        for line, items in groups.items():
            first = items[0].record
            tr.line("")
            tr.line(f"{len(items)} x {line}", red=True)
            tr.line(f"    first in {first.nodeid}")
            tr.line("    request:  " + first.request_excerpt.replace("\n", "\n              "))
            tr.line("    response: " + first.response_excerpt.replace("\n", "\n              "))

    def _write_report(self, path: str) -> None:
        s = self.session
        assert s is not None
        c = s.collector
        report = {
            "checked": c.checked,
            "bypassed": dict(c.bypassed),
            "not_forwarded": c.not_forwarded,
            "findings": [{"kind": f.kind, "where": f.where, "violation": f.violation,
                          **dataclasses.asdict(f.record)} for f in c.findings],
            "excused": {c.known[i].describe(): n for i, n in c.excused.items()},
            "server_only_rejections": {k: {"count": n, "first": c.server_only_samples.get(k)}
                                       for k, n in c.server_only_rejections.items()},
            "truncated": dict(c.truncated),
            "undocumented_seen": dict(c.undocumented_seen),
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


PLUGIN = Plugin()


def register(config) -> None:
    """Called from tests/integration/conftest.py's pytest_configure."""
    if not config.pluginmanager.is_registered(PLUGIN):
        # pytest_configure is historic: the plugin's own runs as it is registered.
        config.pluginmanager.register(PLUGIN, "deliveryhub-prism-contract")
