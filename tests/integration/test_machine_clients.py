"""One machine client per calling module (issue 11, ADR 0022). A machine client with role service
names the modules it calls for; its tokens carry them as scopes `module:<name>`, and every
internal route admits only the modules that call it. So a leaked orders secret cannot make
courier logins, and a leaked delivery secret cannot refund or capture."""
import os
import secrets
import subprocess
import tempfile

import pytest

from conftest import assert_problem, binary_path, in_split, new_shape, single_process

CALLERS = ("payments", "delivery", "orders", "incidents")
ORDER = "ord_01JD3ZZZZZZZZZZZZZZZZZZZZZ"

# (owner module, method, path, body, the modules that call it). An admitted caller's request is
# still refused for its content (400) or harmless (reads, removing a courier login that does not
# exist), so nothing changes either way.
ROUTES = [
    ("customers", "GET", "/internal/v1/customers/cus_01JD3ZZZZZZZZZZZZZZZZZZZZZ", None, {"orders"}),
    ("customers", "GET", "/internal/v1/customers/suspensions?since=0", None, set(CALLERS)),
    ("customers", "POST", "/internal/v1/customers/staff-accounts", {}, {"delivery"}),
    ("customers", "DELETE", "/internal/v1/customers/courier-accounts/acc_01JD3ZZZZZZZZZZZZZZZZZZZZZ", None,
     {"delivery"}),
    ("delivery", "POST", "/internal/v1/delivery/schedule", {}, {"orders"}),
    ("delivery", "POST", "/internal/v1/delivery/cancel", {}, {"orders"}),
    ("delivery", "POST", "/internal/v1/delivery/redeliver", {}, {"incidents"}),
    ("delivery", "GET", f"/internal/v1/delivery/by-order/{ORDER}", None, {"orders", "incidents"}),
    ("orders", "GET", f"/internal/v1/orders/{ORDER}", None, {"incidents"}),
    ("payments", "POST", "/internal/v1/payments/authorize", {}, {"orders"}),
    ("payments", "POST", "/internal/v1/payments/void", {}, {"orders"}),
    ("payments", "POST", "/internal/v1/payments/refund", {}, {"orders", "incidents"}),
    ("payments", "GET", f"/internal/v1/payments/by-order/{ORDER}", None, {"orders", "incidents"}),
]


@pytest.fixture(scope="module")
def clients():
    return {m: (f"svc-only-{m}", secrets.token_hex(20)) for m in CALLERS}


@pytest.fixture(scope="module")
def shop(clients):
    args = [a for m, (cid, secret) in clients.items() for a in ("--client", f"{cid}:{secret}:service:{m}")]
    srv = new_shape(extra_args=args).start()
    yield srv
    srv.stop()


def token_of(server, client) -> dict:
    cid, secret = client
    resp = server.token_request({"grant_type": "client_credentials", "client_id": cid, "client_secret": secret})
    assert resp.status == 200, resp
    return resp.body


def test_a_token_names_the_modules_its_client_calls_for(shop, clients):
    for module, client in clients.items():
        assert token_of(shop, client)["scope"] == f"module:{module}"


@pytest.mark.remote
@pytest.mark.parametrize("owner,method,path,body,callers", ROUTES, ids=[f"{r[1]} {r[2].split('?')[0]}" for r in ROUTES])
def test_each_internal_route_admits_only_the_modules_that_call_it(shop, clients, owner, method, path, body, callers):
    target = shop.process(owner) if in_split() else shop
    for module, client in clients.items():
        resp = target.call(method, path, body, token=token_of(shop, client)["access_token"])
        if module in callers:
            assert resp.status in (200, 400), f"{module} on {method} {path}: {resp}"
            if resp.status == 400:
                assert_problem(resp, 400)
        else:
            assert_problem(resp, 403, "forbidden")
            assert "does not act for" in resp.body["detail"], resp


def test_every_route_between_modules_is_in_the_table():
    """The table above is the whole list: a new internal route must say who may call it here."""
    import glob
    import os
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    found = set()
    for path in glob.glob(os.path.join(root, "src/modules/*/src/internal_routes.cpp")):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for method, route in re.findall(r'router\.add\("(\w+)", "(/internal/[^"]+)"', text):
            callers = re.search(r'require_service\(tokens, request, \{([^}]*)\}\)', text[text.index(route):])
            found.add((method, route, frozenset(re.findall(r'"(\w+)"', callers.group(1)))))
    table = set()
    for _, method, path, _, callers in ROUTES:
        pattern = re.sub(r"/(cus|acc|ord)_[0-9A-Z]+", "/{id}", path.split("?")[0])
        table.add((method, pattern, frozenset(callers)))
    normalised = {(m, re.sub(r"\{[a-z_]+\}", "{id}", r), c) for m, r, c in found}
    assert normalised == table


@single_process
@pytest.mark.parametrize("spec,reason", [("svc:0123456789abcdef0123:service", "must name the modules it calls for"),
                                         ("svc:0123456789abcdef0123:service:order", "no module 'order'"),
                                         ("ops:0123456789abcdef0123:operator:orders", "only role service acts")])
def test_a_service_client_must_name_real_modules(spec, reason):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([binary_path(), "serve", "--listen", "127.0.0.1:0", "--database",
                                 f"sqlite:{tmp}/db.sqlite", "--client", spec], capture_output=True, text=True,
                                timeout=30, env=env, cwd=tmp, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result
    assert reason in result.stderr and "0123456789abcdef0123" not in result.stderr
