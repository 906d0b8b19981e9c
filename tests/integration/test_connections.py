"""Connection-level behaviour: the connection cap, idle timeout, trace context in logs."""
import socket
import time

from conftest import wait_for, single_process

pytestmark = single_process


def read_response(sock: socket.socket, deadline_s: float = 5.0) -> bytes:
    sock.settimeout(deadline_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_connections_over_the_cap_get_503_and_the_server_recovers(make_server):
    srv = make_server(extra_args=["--max-connections", "2"])
    held = [socket.create_connection((srv.host, srv.port)) for _ in range(2)]
    try:
        # Both held connections are accepted (they can be served).
        for sock in held:
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 200")
        extra = socket.create_connection((srv.host, srv.port))
        answer = read_response(extra)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert b"retry-after: 1" in answer.lower()
    finally:
        for sock in held:
            sock.close()
    wait_for(lambda: srv.call("GET", "/livez").status == 200, 5, "a new connection after the held ones closed")


def test_idle_connections_are_closed_after_the_idle_timeout(make_server):
    srv = make_server(extra_args=["--idle-timeout", "1"])
    sock = socket.create_connection((srv.host, srv.port))
    sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(sock).startswith(b"HTTP/1.1 200")
    sock.settimeout(5)
    started = time.monotonic()
    assert sock.recv(1) == b""  # kept alive, then closed without our sending anything more
    assert time.monotonic() - started < 4
    sock.close()


def closed_within(sock: socket.socket, limit_s: float) -> bool:
    sock.settimeout(limit_s + 3)
    started = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started < limit_s + 2


def test_half_a_request_line_holds_a_socket_only_for_the_header_time(make_server):
    """Issue 11: a client that sends half a request line and stops held the socket for the idle
    time (60 s). The whole header now has --header-timeout from its first byte, and a new
    connection gets the same time for its first byte."""
    srv = make_server(extra_args=["--header-timeout", "1"])
    dribbler = socket.create_connection((srv.host, srv.port))
    dribbler.sendall(b"GET /api/v1/ord")
    silent = socket.create_connection((srv.host, srv.port))
    assert closed_within(dribbler, 1) and closed_within(silent, 1)
    assert srv.call("GET", "/livez").status == 200


def connect_from(address: str, srv) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((address, 0))
    sock.connect((srv.host, srv.port))
    return sock


def test_one_address_cannot_take_every_connection(make_server):
    """Issue 11: 1,100 sockets sending half a request line made the server answer 503 to every
    other client. Now one address holds at most --max-connections-per-address (default 128);
    past it, 429 at once; other addresses are served."""
    srv = make_server(extra_args=["--max-connections", "300"])
    held = []
    try:
        for _ in range(128):
            sock = connect_from("127.0.0.1", srv)
            sock.sendall(b"GET /api/v1/ord")
            held.append(sock)
        one_more = connect_from("127.0.0.1", srv)
        answer = read_response(one_more)
        one_more.close()
        assert answer.startswith(b"HTTP/1.1 429"), answer
        assert b"retry-after: 1" in answer.lower() and b"application/problem+json" in answer.lower()
        for _ in range(3):
            other = connect_from("127.0.0.2", srv)
            other.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert read_response(other).startswith(b"HTTP/1.1 200")
            other.close()
    finally:
        for sock in held:
            sock.close()
    wait_for(lambda: srv.call("GET", "/livez").status == 200, 5, "the address served again")


def test_a_slow_body_is_cut_off_by_the_read_timeout(make_server):
    srv = make_server(extra_args=["--read-timeout", "1"])
    sock = socket.create_connection((srv.host, srv.port))
    sock.sendall(b"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    sock.settimeout(5)
    started = time.monotonic()
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert time.monotonic() - started < 4
    assert not data.startswith(b"HTTP/1.1 201")
    sock.close()
    assert srv.call("GET", "/livez").status == 200


def test_traceparent_is_kept_in_the_request_context(make_server):
    srv = make_server()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    resp = srv.call("GET", "/livez", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
                                              "X-Request-Id": "trace-test-1"})
    assert resp.status == 200

    def logged():
        return [r for r in srv.log_records() if r.get("request_id") == "trace-test-1"]
    wait_for(lambda: logged(), 5, "the access-log line")
    line = logged()[0]
    assert line["trace_id"] == trace_id
    assert line["route"] == "/livez" and line["status"] == 200


def test_a_malformed_traceparent_is_ignored(make_server):
    srv = make_server()
    resp = srv.call("GET", "/livez", headers={"traceparent": "garbage", "X-Request-Id": "trace-test-2"})
    assert resp.status == 200

    def logged():
        return [r for r in srv.log_records() if r.get("request_id") == "trace-test-2"]
    wait_for(lambda: logged(), 5, "the access-log line")
    assert "trace_id" not in logged()[0]
