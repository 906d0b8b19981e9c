"""Self-test of the contract check (prism_proxy.py), against a scripted server instead of
deliveryhub: the bytes a test sends reach the server unchanged and the server's bytes reach the
test unchanged, Prism's verdicts become the findings they should, and what Prism cannot carry
goes straight to the server. Needs the pinned Prism (tests/contract/run_prism.sh installs it)."""
from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prism_proxy  # noqa: E402
from known_violations import Known  # noqa: E402

PROBLEM_400 = json.dumps({"type": "urn:deliveryhub:problem:validation-error", "title": "Invalid request fields",
                          "status": 400, "detail": "1 field is invalid", "request_id": "req_1",
                          "errors": [{"field": "password", "message": "is required"}]})
CUSTOMER = json.dumps({"id": "cus_01JD3Q7ZK4V9W8X2Y5T6R0M1N3", "email": "a@example.com", "name": "A",
                       "phone": None, "status": "active", "addresses": [],
                       "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                       "version": 1})


def raw_response(status: int, body: str = "", ctype: str = "application/json",
                 extra: str = "") -> bytes:
    reason = http.client.responses.get(status, "Status")
    data = body.encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nX-Request-Id: req_1\r\n{extra}"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


class ScriptedServer:
    """Answers by (method, path) with fixed bytes and keeps every request's bytes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self.sock.getsockname()[:2]
        self.received: list[bytes] = []
        self.script: dict[tuple[str, str], bytes] = {}
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                body += conn.recv(65536)
            self.received.append(head + b"\r\n\r\n" + body)
            method, target = head.split(b" ")[:2]
            path = target.decode().split("?")[0]
            conn.sendall(self.script.get((method.decode(), path), raw_response(200, '{"status":"ok"}')))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def check():
    if not os.access(prism_proxy.PRISM_BIN, os.X_OK):
        pytest.skip("Prism is not installed (tests/contract/run_prism.sh installs it)")
    session = prism_proxy.start_session([])
    yield session
    assert prism_proxy.stop_session(session), "Prism died:\n" + session.prism.log_tail()


@pytest.fixture
def upstream(check):
    srv = ScriptedServer()
    check.collector = prism_proxy.Collector(prism_proxy.Operations(prism_proxy.DOCUMENT), [])
    yield srv
    srv.close()


def exchange(conn_cls, srv, method, url, body=None, headers=None):
    conn = conn_cls(srv.host, srv.port, timeout=10)
    try:
        conn.request(method, url, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


REQUESTS = [
    ("POST", "/api/v1/customers", b'{"email": "a@example.com",  "password": "pw-0123456789ab", "name": "A\\u00e9"}',
     {"Content-Type": "application/json", "Idempotency-Key": "k-1", "X-Request-Id": "r.1"}),
    ("PATCH", "/api/v1/customers/cus_01JD3Q7ZK4V9W8X2Y5T6R0M1N3", b'{"name": "B", "name": "C"}',
     {"Content-Type": "application/merge-patch+json", "If-Match": '"3"', "Authorization": "Bearer x.y.z"}),
    ("GET", "/api/v1/customers?email=a%2Bb%40example.com&limit=10&email=x&z=~", None, {"Authorization": "Bearer t"}),
    ("POST", "/oauth/token", b"grant_type=password&username=a%40example.com&password=p+w",
     {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic c3ZjOnNlYw=="}),
    ("POST", "/api/v1/customers", b'{"big": 12345678901234567890, "f": 1.0}', {"Content-Type": "application/json"}),
    ("POST", "/api/v1/customers", b'"just a string"', {"Content-Type": "application/json"}),
    ("POST", "/api/v1/customers", "caf\u00e9".encode("latin-1"), {"Content-Type": "text/plain; charset=latin1"}),
    ("POST", "/api/v1/orders/ord_01JD3Q7ZK4V9W8X2Y5T6R0M1N3/cancel", None, {}),
    ("DELETE", "/api/v1/customers/cus_01JD3Q7ZK4V9W8X2Y5T6R0M1N3/addresses/adr_01JD3Q7ZK4V9W8X2Y5T6R0M1N3", None, {}),
    ("GET", "/internal/v1/orders/ord_1", None, {"Authorization": "Bearer s"}),
]


@pytest.mark.parametrize("method,url,body,headers", REQUESTS)
def test_the_server_and_the_test_see_the_same_bytes_as_without_prism(upstream, method, url, body, headers):
    reply = raw_response(201, '{"a": 1.0,  "a": 2, "n": 12345678901234567890}', extra="ETag: \"1\"\r\n")
    upstream.script[(method, url.split("?")[0])] = reply
    direct = exchange(http.client.HTTPConnection, upstream, method, url, body, headers)
    via = exchange(prism_proxy.RoutingConnection, upstream, method, url, body, headers)
    assert upstream.received[0] == upstream.received[1]
    assert via == direct
    assert via[2] == b'{"a": 1.0,  "a": 2, "n": 12345678901234567890}'
    assert prism_proxy.SESSION.collector.checked == 1, "it went through Prism"


@pytest.mark.parametrize("method,url,body,headers,reason", [
    ("POST", "/api/v1/customers", b'{"email": ', {"Content-Type": "application/json"}, "malformed JSON body"),
    ("PATCH", "/api/v1/customers/cus_01JD3Q7ZK4V9W8X2Y5T6R0M1N3", b"null", {"Content-Type": "application/json"},
     "falsy JSON body on PATCH"),
    ("GET", "/api/v1/orders/..%2f..%2finternal", None, {}, "path with an encoded '/', '\\' or '.'"),
    ("POST", "/api/v1/customers", b"{}", {"Content-Type": "application/json;;"}, "unparsable Content-Type"),
])
def test_what_prism_cannot_carry_goes_straight_to_the_server(upstream, method, url, body, headers, reason):
    direct = exchange(http.client.HTTPConnection, upstream, method, url, body, headers)
    via = exchange(prism_proxy.RoutingConnection, upstream, method, url, body, headers)
    assert upstream.received[0] == upstream.received[1]
    assert via == direct
    collector = prism_proxy.SESSION.collector
    assert dict(collector.bypassed) == {reason: 1} and collector.checked == 0


def findings(upstream, method, url, reply, body=None, headers=None):
    upstream.script[(method, url.split("?")[0])] = reply
    exchange(prism_proxy.RoutingConnection, upstream, method, url, body, headers)
    collector = prism_proxy.SESSION.collector
    assert collector.checked == 1 and not collector.not_forwarded
    return [(f.kind, f.record.operation, f.record.status, f.where) for f in collector.findings]


def test_a_response_off_the_schema_is_a_finding(upstream):
    got = findings(upstream, "GET", "/livez", raw_response(200, '{"status": 42}'))
    assert ("response", "GET /livez (getLiveness)", 200, "response.body.status") in got


def test_an_undocumented_status_is_a_finding(upstream):
    got = findings(upstream, "GET", "/livez", raw_response(418, '{"x": 1}'))
    assert got == [("response", "GET /livez (getLiveness)", 418, "response")]


def test_a_response_without_the_documented_header_type_is_a_finding(upstream):
    got = findings(upstream, "GET", "/livez", raw_response(200, '{"status": "alive"}', ctype="text/plain"))
    assert ("response", "GET /livez (getLiveness)", 200, "response") in got


def test_an_invalid_request_the_server_accepts_is_a_finding(upstream):
    got = findings(upstream, "POST", "/api/v1/customers", raw_response(201, CUSTOMER, extra='ETag: "1"\r\n'),
                   body=b'{"email": "a@example.com", "name": "A"}', headers={"Content-Type": "application/json"})
    assert got == [("accepted-invalid-request", "POST /api/v1/customers (registerCustomer)", 201, "request.body")]


def test_a_request_without_the_required_token_that_the_server_serves_is_a_finding(upstream):
    url = "/api/v1/customers/cus_01JD3Q7ZK4V9W8X2Y5T6R0M1N3"
    got = findings(upstream, "GET", url, raw_response(200, CUSTOMER, extra='ETag: "1"\r\n'))
    assert got == [("accepted-invalid-request", "GET /api/v1/customers/{id} (getCustomer)", 200, "request")]


def test_an_invalid_request_the_server_refuses_is_not_a_finding(upstream):
    got = findings(upstream, "POST", "/api/v1/customers",
                   raw_response(400, PROBLEM_400, ctype="application/problem+json"),
                   body=b'{"email": "a@example.com", "name": "A"}', headers={"Content-Type": "application/json"})
    assert got == []
    assert prism_proxy.SESSION.collector.rejected_invalid == 1


def test_the_response_to_an_invalid_request_is_checked_too(upstream):
    problem = json.loads(PROBLEM_400)
    del problem["detail"]
    got = findings(upstream, "POST", "/api/v1/customers",
                   raw_response(400, json.dumps(problem), ctype="application/problem+json"),
                   body=b'{"email": "a@example.com", "name": "A"}', headers={"Content-Type": "application/json"})
    assert got == [("response", "POST /api/v1/customers (registerCustomer)", 400, "response.body")]


def test_an_undocumented_route_that_answers_2xx_is_a_finding_outside_internal(upstream):
    assert findings(upstream, "GET", "/api/v1/secret", raw_response(200, "{}")) == [
        ("undocumented-route", "GET /api/v1/secret (undocumented)", 200, "request")]
    upstream.script.clear()
    prism_proxy.SESSION.collector = prism_proxy.Collector(prism_proxy.Operations(prism_proxy.DOCUMENT), [])
    assert findings(upstream, "GET", "/internal/v1/orders/ord_1", raw_response(200, "{}")) == []


def test_a_known_violation_is_excused_and_counted(upstream):
    known = Known(kind="response", operation="GET /livez", status=418, message="status code", reason="self-test")
    prism_proxy.SESSION.collector = prism_proxy.Collector(prism_proxy.Operations(prism_proxy.DOCUMENT), [known])
    assert findings(upstream, "GET", "/livez", raw_response(418, "{}")) == []
    assert dict(prism_proxy.SESSION.collector.excused) == {0: 1}


def test_a_refused_connection_is_raised_as_without_prism(check):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    conn = prism_proxy.RoutingConnection("127.0.0.1", port, timeout=5)
    with pytest.raises(ConnectionRefusedError):
        conn.request("GET", "/livez")
        conn.getresponse()
