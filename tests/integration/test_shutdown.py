"""Graceful shutdown: SIGTERM/SIGINT drain the process and it exits 0 within the grace."""
import http.client
import signal
import threading
import time

from conftest import PROBLEM_CT, PROBLEM_PREFIX, describe, media_type, wait_for, single_process

pytestmark = single_process

GRACE_S = 10.0   # default --shutdown-grace
SLACK_S = 3.0    # process start-up of the signal handler, scheduling, CI noise
THREADS = 8
# Long enough that no request times out before the process has exited (it must by GRACE_S).
CLIENT_TIMEOUT_S = GRACE_S + SLACK_S


class Outcome:
    def __init__(self, path, after_signal, kind, resp=None, error=None, sent_at=0.0):
        self.path = path
        self.sent_at = sent_at
        self.done_at = time.monotonic()
        self.after_signal = after_signal
        self.kind = kind  # "response" | "refused" | "dropped" | "timeout"
        self.resp = resp
        self.error = error

    def __repr__(self):
        detail = describe(self.resp) if self.resp is not None else repr(self.error)
        return f"<{self.kind} {self.path} after_signal={self.after_signal} {detail}>"


def _check_response(outcome, account_id) -> None:
    resp, path = outcome.resp, outcome.path
    assert resp.status in (200, 503), outcome
    assert resp.headers.get("x-request-id"), outcome
    if resp.status == 503:
        if path == "/readyz":
            assert media_type(resp) in (PROBLEM_CT, "application/json"), outcome
            assert "draining" in str(resp.body), outcome
        else:
            assert media_type(resp) == PROBLEM_CT, outcome
            assert resp.body["type"] == PROBLEM_PREFIX + "service-unavailable", outcome
        return
    if path == "/livez":
        assert resp.body == {"status": "ok"}, outcome
    elif path == "/readyz":
        assert resp.body == {"status": "ready"}, outcome
    elif path == "/version":
        assert {"version", "git_commit", "build_type"} <= set(resp.body), outcome
    else:
        assert resp.body["id"] == account_id, outcome


def test_sigterm_during_a_burst_drains_and_exits_0(make_server):
    srv = make_server()
    account = srv.register_customer()
    targets = [("/livez", None), ("/readyz", None),
               (f"/api/v1/customers/{account.id}", account.token), ("/version", None)]
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop = threading.Event()
    signalled = threading.Event()

    def record(outcome):
        with lock:
            outcomes.append(outcome)

    def worker(index):
        n = index
        while not stop.is_set():
            path, token = targets[n % len(targets)]
            n += 1
            after = signalled.is_set()
            sent = time.monotonic()
            try:
                resp = srv.call("GET", path, token=token, timeout=CLIENT_TIMEOUT_S)
                record(Outcome(path, after, "response", resp=resp, sent_at=sent))
            except ConnectionRefusedError as exc:
                record(Outcome(path, after, "refused", error=exc, sent_at=sent))
                if after:
                    return  # the listener is gone; nothing more to learn
            except TimeoutError as exc:
                record(Outcome(path, after, "timeout", error=exc, sent_at=sent))
            except (OSError, http.client.HTTPException) as exc:
                # reset / closed mid-exchange: no response, which is allowed while stopping
                record(Outcome(path, after, "dropped", error=exc, sent_at=sent))

    def responses_before_signal():
        with lock:
            return sum(1 for o in outcomes if o.kind == "response")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: responses_before_signal() >= 60, 20.0, "the burst to get going")

        signalled.set()
        signalled_at = time.monotonic()
        srv.send_signal(signal.SIGTERM)

        def readiness_after_signal():
            sent = time.monotonic()
            try:
                resp = srv.call("GET", "/readyz", timeout=CLIENT_TIMEOUT_S)
            except ConnectionRefusedError:
                return "refused"
            except (ConnectionError, http.client.HTTPException):
                return None  # closing mid-request: ask again
            record(Outcome("/readyz", True, "response", resp=resp, sent_at=sent))
            return "503" if resp.status == 503 else None

        readiness = wait_for(readiness_after_signal, 3.0,
                             "/readyz to answer 503 or refuse connections after SIGTERM")
        rc = srv.wait_exit(GRACE_S + SLACK_S)
        exited_after = time.monotonic() - signalled_at
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=CLIENT_TIMEOUT_S + 2)

    assert rc is not None, f"still running {GRACE_S + SLACK_S}s after SIGTERM:\n" \
                           f"{srv.output_tail()}"
    assert rc == 0, f"exit code {rc}:\n{srv.output_tail()}"
    assert exited_after <= GRACE_S + SLACK_S
    assert readiness in ("503", "refused")
    assert not any(t.is_alive() for t in threads), "a client is still hanging"

    with lock:
        final = list(outcomes)
    assert not [o for o in final if o.kind == "timeout"], \
        [o for o in final if o.kind == "timeout"][:5]
    responses = [o for o in final if o.kind == "response"]
    assert len(responses) >= 60
    for outcome in responses:
        _check_response(outcome, account.id)
    # Once /readyz has said 503, a /readyz sent later never claims to be ready again.
    readyz = [o for o in responses if o.path == "/readyz"]
    first_503_at = min((o.done_at for o in readyz if o.resp.status == 503), default=None)
    if first_503_at is not None:
        relapsed = [o for o in readyz if o.sent_at > first_503_at and o.resp.status != 503]
        assert not relapsed, relapsed

    # The port is closed afterwards.
    try:
        srv.call("GET", "/livez", timeout=2.0)
        raise AssertionError("the server still answers after exiting")
    except ConnectionRefusedError:
        pass


def test_idle_keepalive_connection_does_not_block_shutdown(make_server):
    srv = make_server()
    conn = srv.connection(timeout=CLIENT_TIMEOUT_S)
    try:
        conn.request("GET", "/livez")
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
        assert not resp.will_close, "expected an HTTP/1.1 keep-alive connection"
        started = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        rc = srv.wait_exit(GRACE_S + SLACK_S)
        assert rc == 0, f"exit code {rc}:\n{srv.output_tail()}"
        assert time.monotonic() - started <= GRACE_S + SLACK_S
    finally:
        conn.close()


def test_sigint_exits_0(make_server):
    srv = make_server()
    assert srv.call("GET", "/livez").status == 200
    srv.send_signal(signal.SIGINT)
    rc = srv.wait_exit(GRACE_S + SLACK_S)
    assert rc == 0, f"exit code {rc}:\n{srv.output_tail()}"


def test_a_request_whose_body_is_still_arriving_at_sigterm_is_finished(make_server):
    import json as _json
    import socket as _socket
    from conftest import unique_email, wait_for
    srv = make_server(extra_args=["--shutdown-grace", "10"])
    body = _json.dumps({"email": unique_email(), "password": "correct horse battery", "name": "Late"}).encode()
    sock = _socket.create_connection((srv.host, srv.port))
    sock.sendall(b"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
    time.sleep(0.2)  # let the server read the header before the signal (not a correctness wait)
    srv.send_signal(signal.SIGTERM)
    wait_for(lambda: any(r.get("msg") == "draining" for r in srv.log_records()), 5, "the draining log line")
    sock.sendall(body[10:])
    sock.settimeout(10)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert srv.wait_exit() == 0
