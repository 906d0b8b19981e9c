"""CORS (--cors-origin): browser pages of a configured origin may call the API; pages of any
other origin get no CORS headers (their browser keeps the answer from them); none by default."""
import pytest

from conftest import assert_json, describe

ALLOWED = "https://shop.example.com"


@pytest.fixture(scope="module")
def cors_server(request):
    from conftest import new_shape
    srv = new_shape(extra_args=["--cors-origin", ALLOWED, "--cors-origin", "http://127.0.0.1:5173"])
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def preflight(server, origin: str, path: str = "/api/v1/orders"):
    return server.call("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})


def test_a_configured_origin_gets_its_preflight_answered(cors_server):
    resp = preflight(cors_server, ALLOWED)
    assert resp.status == 204, describe(resp)
    assert resp.headers["access-control-allow-origin"] == ALLOWED
    allowed_headers = resp.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key", "if-match"):
        assert header in allowed_headers
    assert "POST" in resp.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in resp.headers
    assert "Origin" in resp.headers["vary"]


def test_a_configured_origin_may_read_answers_and_their_location(cors_server):
    account = cors_server.register_customer()
    resp = cors_server.call("GET", f"/api/v1/customers/{account.id}", token=account.token,
                            headers={"Origin": ALLOWED})
    assert_json(resp, 200)
    assert resp.headers["access-control-allow-origin"] == ALLOWED
    assert "Location" in resp.headers["access-control-expose-headers"]
    # Errors too: a script must be able to read the problem to show it.
    resp = cors_server.call("GET", "/api/v1/orders/ord_nope", token=account.token, headers={"Origin": ALLOWED})
    assert resp.status == 404 and resp.headers["access-control-allow-origin"] == ALLOWED


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.com.evil.example",
                                    "http://shop.example.com", "null", "https://SHOP.example.com"])
def test_any_other_origin_gets_no_cors_headers(cors_server, origin):
    resp = preflight(cors_server, origin)
    assert "access-control-allow-origin" not in resp.headers, describe(resp)
    assert resp.status != 204, describe(resp)  # routed as an ordinary OPTIONS: not allowed there
    account = cors_server.register_customer()
    resp = cors_server.call("GET", f"/api/v1/customers/{account.id}", token=account.token, headers={"Origin": origin})
    assert resp.status == 200 and "access-control-allow-origin" not in resp.headers
    assert "Origin" in resp.headers["vary"]


def test_without_configured_origins_no_cors_at_all(server):
    resp = preflight(server, ALLOWED)
    assert "access-control-allow-origin" not in resp.headers and resp.status == 405, describe(resp)
    resp = server.call("GET", "/livez", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in resp.headers and "vary" not in resp.headers


@pytest.mark.parametrize("bad", ["shop.example.com", "https://shop.example.com/", "https://shop.example.com/app",
                                 "ftp://shop.example.com", "*"])
def test_a_malformed_origin_is_refused_at_start(bad):
    import subprocess
    from conftest import binary_path
    run = subprocess.run([binary_path(), "serve", "--cors-origin", bad, "--listen", "127.0.0.1:0"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode != 0, run
    assert "cors-origin" in (run.stderr + run.stdout)
