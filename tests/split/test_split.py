"""The split shape end to end (issue 4): five deliveryhub processes (one module each) on
PostgreSQL and RabbitMQ behind nginx, started by scripts/split.sh exactly as the README says.
The README's walkthroughs run through the gateway unchanged; the gateway hides internal routes;
with the payments process down, placement fails fast with 503 once the breaker is open, nothing
is left half-done, and everything recovers when payments returns."""
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from test_readme import shell_blocks_after  # noqa: E402

SPLIT = ROOT / "scripts" / "split.sh"
OPERATOR = ("ops@example.com", "change me please")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    folder = tmp_path_factory.mktemp("split") / "shape"
    tls_port = free_port()
    env = {**os.environ, "GATEWAY_PORT": str(free_port()), "TLS_PORT": str(tls_port), "RATE": "50", "BURST": "100",
           "DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL": OPERATOR[0],
           "DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD": OPERATOR[1]}
    started = subprocess.run(["bash", str(SPLIT), "start", str(folder)], env=env, capture_output=True, text=True,
                             timeout=240)
    assert started.returncode == 0, started.stderr + started.stdout
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield {"url": url, "folder": folder, "tls_url": f"https://localhost:{tls_port}"}
    finally:
        subprocess.run(["bash", str(SPLIT), "stop", str(folder)], capture_output=True, timeout=120)


def call(gateway, method, path, body=None, token=None, form=None):
    data, headers = None, {}
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data, headers["Content-Type"] = form.encode(), "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(gateway["url"] + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def login(gateway, email, password):
    status, _, body = call(gateway, "POST", "/oauth/token",
                           form=f"grant_type=password&username={email}&password={password.replace(' ', '+')}")
    assert status == 200, body
    return body["access_token"]


def test_the_readme_walkthroughs_run_unchanged_through_the_gateway(gateway):
    for heading, expected in (("## Walkthrough with curl", ["precondition-failed"]),
                              ("### The whole flow", ['{"status":"confirmed","total":2500',
                                                      '{"status":"captured","amount":2500,"captured_amount":2500}',
                                                      '{"status":"delivered","refunded_amount":500}'])):
        script = shell_blocks_after(heading).replace("http://127.0.0.1:8080", gateway["url"])
        script = script.replace("sleep 1 ", "sleep 3 ")
        result = subprocess.run(["bash", "-eo", "pipefail", "-c", script], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr + result.stdout
        for text in expected:
            assert text in result.stdout, result.stdout


def test_the_gateway_hides_internal_routes_and_answers_unknown_paths_with_problems(gateway):
    for path in ("/internal/v1/payments/by-order/ord_1", "/nowhere"):
        status, headers, body = call(gateway, "GET", path)
        assert status == 404
        assert headers["Content-Type"].startswith("application/problem+json")
        assert body["type"] == "urn:deliveryhub:problem:not-found"


def test_the_gateway_logs_one_json_line_per_request_with_the_request_id(gateway):
    rid = "gw-" + uuid.uuid4().hex
    request = urllib.request.Request(gateway["url"] + "/nowhere?a=%22quoted%22", headers={"X-Request-Id": rid})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)

    def logged():
        lines = (gateway["folder"] / "nginx" / "access.log").read_text().splitlines()
        return [json.loads(line) for line in lines if rid in line]
    entry = wait_for(logged, 10, "the gateway's access log line")[0]
    assert entry["request_id"] == rid and entry["status"] == 404 and entry["method"] == "GET"
    assert entry["uri"] == "/nowhere?a=%22quoted%22"


def test_the_gateway_also_serves_tls_with_the_self_signed_certificate_it_made(gateway):
    import ssl
    context = ssl.create_default_context(cafile=str(gateway["folder"] / "nginx" / "tls.crt"))
    with urllib.request.urlopen(gateway["tls_url"] + "/.well-known/jwks.json", context=context, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read())["keys"][0]["kty"] == "EC"
    # Without trusting that certificate, the handshake is refused: it is real TLS.
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(gateway["tls_url"] + "/livez", timeout=10)


def shop(gateway):
    operator = login(gateway, *OPERATOR)
    sku = "SPLIT-" + uuid.uuid4().hex[:6].upper()
    zones = call(gateway, "GET", "/api/v1/zones", token=operator)[2]["data"]
    if not any("28" in z["postal_prefixes"] for z in zones):
        assert call(gateway, "POST", "/api/v1/zones", {"name": "Madrid", "postal_prefixes": ["28"]},
                    token=operator)[0] == 201
    zone = [z for z in call(gateway, "GET", "/api/v1/zones", token=operator)[2]["data"]
            if "28" in z["postal_prefixes"]][0]
    assert call(gateway, "POST", "/api/v1/catalog/products",
                {"sku": sku, "name": "Paella", "price": 1500, "currency": "EUR"}, token=operator)[0] == 201
    assert call(gateway, "POST", "/api/v1/couriers",
                {"name": "Ana", "email": f"c-{uuid.uuid4().hex[:8]}@example.com", "password": "courier password",
                 "zone_id": zone["id"], "capacity": 50}, token=operator)[0] == 201
    email = f"b-{uuid.uuid4().hex[:8]}@example.com"
    status, _, customer = call(gateway, "POST", "/api/v1/customers",
                               {"email": email, "password": "a customer password", "name": "Bea"})
    assert status == 201, customer
    token = login(gateway, email, "a customer password")
    status, _, address = call(gateway, "POST", f"/api/v1/customers/{customer['id']}/addresses",
                              {"label": "Home", "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013",
                               "country": "ES"}, token=token)
    assert status == 201, address
    return operator, token, {"items": [{"sku": sku, "quantity": 1}], "address_id": address["id"],
                             "payment_method": "tok_visa"}


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_with_payments_down_placement_fails_fast_then_everything_recovers(gateway):
    operator, token, order = shop(gateway)
    split = lambda *args: subprocess.run(["bash", str(SPLIT), *args], capture_output=True, text=True,  # noqa: E731
                                         timeout=120)
    assert split("kill", str(gateway["folder"]), "payments").returncode == 0
    accepted, refused = [], []
    try:
        # The gateway's own answer for a module it cannot reach: the same 503 problem.
        status, headers, body = call(gateway, "GET", "/api/v1/payments/pay_00000000000000000000000000", token=operator)
        assert status == 503 and headers["Content-Type"].startswith("application/problem+json"), (status, body)
        assert body["type"] == "urn:deliveryhub:problem:service-unavailable" and int(headers["Retry-After"]) >= 1
        assert body["request_id"] == headers["X-Request-Id"]
        # Orders taken before the breaker opens wait in `pending`; the saga's failing calls open it.
        def breaker_open():
            status, headers, body = call(gateway, "POST", "/api/v1/orders", order, token=token)
            if status == 201:
                accepted.append(body["id"])
                return False
            assert status == 503, body
            refused.append((headers, body, time.monotonic()))
            return True
        wait_for(breaker_open, 60, "placement to be refused with 503")
        started = time.monotonic()
        status, headers, body = call(gateway, "POST", "/api/v1/orders", order, token=token)
        assert status == 503 and time.monotonic() - started < 1.0  # fast: no call to payments
        assert int(headers["Retry-After"]) >= 1
        assert body["type"] == "urn:deliveryhub:problem:service-unavailable"
        for order_id in accepted:
            assert call(gateway, "GET", f"/api/v1/orders/{order_id}", token=token)[2]["status"] == "pending"
    finally:
        revived = split("revive", str(gateway["folder"]), "payments")
        assert revived.returncode == 0, revived.stderr
    # Recovery: the breaker half-opens and closes; the waiting orders are confirmed; new ones too.
    new = wait_for(lambda: (lambda r: r[2]["id"] if r[0] == 201 else None)(
        call(gateway, "POST", "/api/v1/orders", order, token=token)), 60, "placement to work again")
    for order_id in [*accepted, new]:
        wait_for(lambda: call(gateway, "GET", f"/api/v1/orders/{order_id}", token=token)[2]["status"] == "confirmed",
                 60, f"order {order_id} to be confirmed")


def test_the_gateway_answers_429_beyond_its_rate_and_lets_clients_back_after(gateway):
    """RATE=50/s with BURST=100 (the fixture): 400 requests at once must be cut, with the same
    problem the services answer, and the limit must let the client back once it slows down."""
    import concurrent.futures
    outcomes = []

    def one(_):
        status, headers, body = call(gateway, "GET", "/.well-known/jwks.json")
        outcomes.append((status, headers, body))

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(400)))
    limited = [o for o in outcomes if o[0] == 429]
    assert limited, sorted({o[0] for o in outcomes})
    assert {o[0] for o in outcomes} <= {200, 429}
    assert any(o[0] == 200 for o in outcomes)
    status, headers, body = limited[0]
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["type"] == "urn:deliveryhub:problem:too-many-requests" and body["status"] == 429
    assert body["request_id"] == headers["X-Request-Id"] and int(headers["Retry-After"]) >= 1
    time.sleep(3)  # 150 tokens back at 50/s
    assert call(gateway, "GET", "/.well-known/jwks.json")[0] == 200


def test_a_client_cannot_escape_the_login_throttle_by_claiming_another_address(gateway):
    """The gateway replaces X-Forwarded-For, and the modules trust only the gateway's: twenty
    failed logins from one client throttle it, whatever addresses it claims."""
    def grant(email, claimed):
        request = urllib.request.Request(
            gateway["url"] + "/oauth/token", method="POST",
            data=f"grant_type=password&username={email}&password=wrong+password".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": claimed})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
    time.sleep(3)  # the rate limit's tokens back after the test before
    statuses = [grant(f"spray-{i}-{uuid.uuid4().hex[:6]}@example.com", f"198.51.100.{i}") for i in range(21)]
    assert statuses[:20] == [400] * 20, statuses
    assert statuses[20] == 429, statuses
