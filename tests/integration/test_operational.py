"""Operational endpoints, request ids, routing errors.

The operational endpoints (/readyz, /version, /metrics, /openapi.yaml) belong to each process: in
the split shape every process answers them directly, and the gateway does not route them."""
import re
import uuid

import pytest

from conftest import (REQUEST_ID_RE, assert_json, assert_problem, describe, media_type, strong_password,
                      in_split, unique_email, wait_for)


@pytest.mark.gateway
def test_livez(server):
    resp = server.call("GET", "/livez")
    assert assert_json(resp, 200) == {"status": "ok"}


def test_readyz_when_ready(server):
    for process in server.processes():
        resp = process.call("GET", "/readyz")
        assert assert_json(resp, 200) == {"status": "ready"}


def test_version(server):
    for process in server.processes():
        body = assert_json(process.call("GET", "/version"), 200)
        for key in ("version", "git_commit", "build_type"):
            assert isinstance(body.get(key), str) and body[key], f"version.{key}: {body!r}"


def test_openapi_document(server):
    for process in server.processes():
        resp = process.call("GET", "/openapi.yaml")
        assert resp.status == 200, describe(resp)
        assert media_type(resp) == "application/yaml", describe(resp)
        text = resp.body
        assert isinstance(text, str)
        assert re.search(r"^openapi:\s*[\"']?3\.1", text, re.MULTILINE), text[:200]
        assert "/api/v1/customers" in text
        assert "/oauth/token" in text


@pytest.mark.gateway
def test_operational_endpoints_need_no_token(server):
    for path in ("/livez", "/.well-known/jwks.json", "/.well-known/openid-configuration"):
        resp = server.call("GET", path)
        assert resp.status == 200, f"{path}: {describe(resp)}"
    for process in server.processes():
        for path in ("/livez", "/readyz", "/version", "/metrics", "/openapi.yaml"):
            resp = process.call("GET", path)
            assert resp.status == 200, f"{path}: {describe(resp)}"


def _metric_samples(text: str, needle: str) -> list[tuple[str, float]]:
    samples = []
    for line in text.splitlines():
        if line.startswith("#") or needle not in line:
            continue
        name_and_labels, _, value = line.rpartition(" ")
        samples.append((name_and_labels, float(value)))
    return samples


def test_metrics_count_requests_by_route_template(server):
    account = server.register_customer()
    resp = server.call("GET", f"/api/v1/customers/{account.id}", token=account.token)
    assert resp.status == 200, describe(resp)
    stray = f"/no-such-route-{uuid.uuid4().hex}"
    assert server.call("GET", stray).status == 404

    text = ""
    for process in server.processes():
        metrics = process.call("GET", "/metrics")
        assert metrics.status == 200, describe(metrics)
        assert media_type(metrics) == "text/plain", describe(metrics)
        assert "# TYPE" in metrics.body
        text += metrics.body
    samples = _metric_samples(text, 'route="/api/v1/customers/{id}"')
    assert samples, "no sample labelled with the route template /api/v1/customers/{id}"
    assert any(value >= 1 for _, value in samples), samples
    # Labels use templates, never raw ids or unmatched paths (bounded cardinality).
    assert account.id not in text
    assert stray not in text


@pytest.mark.gateway
@pytest.mark.parametrize("request_id", [
    "it-" + uuid.uuid4().hex,
    "A.b_c-9",
    "x",
    "r" * 128,
])
def test_valid_request_id_is_echoed(server, request_id):
    resp = server.call("GET", "/livez", headers={"X-Request-Id": request_id})
    assert resp.status == 200
    assert resp.headers.get("x-request-id") == request_id


@pytest.mark.gateway
def test_request_id_is_echoed_on_problems_and_in_body(server):
    request_id = "it-" + uuid.uuid4().hex
    resp = server.call("GET", "/api/v1/nothing-here", headers={"X-Request-Id": request_id})
    body = assert_problem(resp, 404, "not-found")
    assert resp.headers.get("x-request-id") == request_id
    assert body["request_id"] == request_id


@pytest.mark.gateway
def test_request_id_is_generated_when_absent(server):
    ids = []
    for _ in range(2):
        resp = server.call("GET", "/livez")
        assert resp.status == 200
        rid = resp.headers.get("x-request-id", "")
        assert REQUEST_ID_RE.match(rid), describe(resp)
        ids.append(rid)
    assert ids[0] != ids[1]


@pytest.mark.gateway
@pytest.mark.parametrize("bad_id", [
    "has space",
    "r" * 129,
    "slash/inside",
    "semi;colon",
    "quote\"d",
    "percent%20",
    "",
])
def test_invalid_request_id_is_replaced(server, bad_id):
    resp = server.call("GET", "/livez", headers={"X-Request-Id": bad_id})
    assert resp.status == 200, describe(resp)
    rid = resp.headers.get("x-request-id", "")
    assert rid != bad_id
    assert REQUEST_ID_RE.match(rid), describe(resp)


@pytest.mark.gateway
@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v2/customers",
                                  "/api/v1/customers/cus_x/unknown-sub-resource"])
def test_unknown_route_is_404_problem(server, path):
    resp = server.call("GET", path, token=server.operator_token())
    assert_problem(resp, 404, "not-found")


def _allow(resp) -> set:
    return {m.strip().upper() for m in resp.headers.get("allow", "").split(",") if m.strip()}


@pytest.mark.gateway
@pytest.mark.parametrize("method,path,expected", [
    ("DELETE", "/api/v1/customers", {"GET", "POST"}),
    ("PUT", "/api/v1/customers/cus_01JD3ZZZZZZZZZZZZZZZZZZZZZ", {"GET", "PATCH"}),
    ("GET", "/oauth/token", {"POST"}),
    ("POST", "/livez", {"GET"}),
    ("DELETE", "/api/v1/customers/cus_01JD3ZZZZZZZZZZZZZZZZZZZZZ/suspend", {"POST"}),
])
def test_wrong_method_is_405_with_allow(server, method, path, expected):
    resp = server.call(method, path, token=server.operator_token())
    assert_problem(resp, 405, "method-not-allowed")
    allow = _allow(resp)
    assert expected <= allow, describe(resp)
    assert method not in allow, describe(resp)


@pytest.mark.remote
def test_a_caller_whose_deadline_has_passed_gets_no_work_done(server):
    """X-Deliveryhub-Deadline-Ms carries what is left of a calling module's deadline (ADR 0014):
    at 0 the request is refused before any work, malformed it is a 400, and otherwise it is
    served. Only a service token's is believed; the split shape's modules are called directly."""
    module = server.process("customers") if in_split() else server
    service = module.service_token()

    def register(deadline, token=service, endpoint=module):
        email = unique_email("deadline")
        resp = endpoint.call("POST", "/api/v1/customers", {"email": email, "password": strong_password(),
                                                           "name": "D"},
                             token=token, headers={"X-Deliveryhub-Deadline-Ms": deadline})
        return email, resp
    email, resp = register("0")
    assert_problem(resp, 503, "service-unavailable")
    assert server.search_by_email(email) == []
    for bad in ("soon", "-5", "1.5", ""):
        email, resp = register(bad)
        assert_problem(resp, 400, "bad-request")
        assert server.search_by_email(email) == []
    email, resp = register("60000")
    assert resp.status == 201, describe(resp)
    email, resp = register("99999999999999999999999")  # more than a day: taken as a day
    assert resp.status == 201, describe(resp)


@pytest.mark.remote
@pytest.mark.gateway
def test_a_public_clients_deadline_is_ignored(server):
    """A public client cannot cut a multi-step operation short half-way (issue 11: a courier
    login left without its courier record): without a service token the header means nothing,
    and the gateway strips it anyway."""
    customer = server.register_customer()
    for token in (None, customer.token, "not.a.token"):
        for deadline in ("0", "5", "soon"):
            email = unique_email("deadline")
            resp = server.call("POST", "/api/v1/customers", {"email": email, "password": strong_password(),
                                                             "name": "D"},
                               token=token, headers={"X-Deliveryhub-Deadline-Ms": deadline})
            assert resp.status == 201, describe(resp)
    zone = assert_json(server.call("POST", "/api/v1/zones", {"name": "Deadline", "postal_prefixes": ["39"]},
                                   token=server.operator_token()), 201)
    email = unique_email("courier")
    resp = server.call("POST", "/api/v1/couriers", {"name": "Dee", "email": email, "password": "courier password",
                                                    "zone_id": zone["id"]},
                       token=server.operator_token(), headers={"X-Deliveryhub-Deadline-Ms": "5"})
    assert resp.status == 201, describe(resp)
    assert server.login(email, "courier password")["access_token"]


@pytest.mark.remote
@pytest.mark.gateway
def test_the_caller_is_logged_and_only_a_service_may_name_another(server):
    """Every log line of an authenticated request names its caller; a module calling another
    names the end user in X-Deliveryhub-Caller, which is believed from a service token only."""
    account = server.register_customer()
    other = server.register_customer()
    marker = uuid.uuid4().hex

    def caller_of(rid):
        lines = wait_for(lambda: [r for r in server.log_records() if r.get("request_id") == rid
                                  and r.get("msg") == "request"], 10, f"the access log line of {rid}")
        return lines[0].get("caller")
    # A customer cannot pass as someone else.
    resp = server.call("GET", f"/api/v1/customers/{account.id}", token=account.token,
                       headers={"X-Request-Id": f"own-{marker}", "X-Deliveryhub-Caller": other.id})
    assert resp.status == 200, describe(resp)
    assert caller_of(f"own-{marker}") == account.id
    # A service acting for a customer names them.
    resp = server.call("GET", "/.well-known/jwks.json", headers={"X-Request-Id": f"anon-{marker}"})
    assert caller_of(f"anon-{marker}") is None  # nobody authenticated
    # Modules call each other directly; the gateway drops the header from outside (issue 11).
    module = server.process("customers") if in_split() else server
    resp = module.call("GET", f"/api/v1/customers/{other.id}", token=server.service_token(),
                       headers={"X-Request-Id": f"svc-{marker}", "X-Deliveryhub-Caller": other.id})
    assert caller_of(f"svc-{marker}") == other.id
    resp = module.call("GET", f"/api/v1/customers/{other.id}", token=server.service_token(),
                       headers={"X-Request-Id": f"bad-{marker}", "X-Deliveryhub-Caller": 'x","admin":"1'})
    assert caller_of(f"bad-{marker}") == "-"
    if in_split():
        resp = server.call("GET", f"/api/v1/customers/{other.id}", token=server.service_token(),
                           headers={"X-Request-Id": f"edge-{marker}", "X-Deliveryhub-Caller": other.id})
        assert caller_of(f"edge-{marker}") == "svc-test"  # through the gateway: the header is gone



@pytest.mark.remote
def test_every_log_line_names_its_service(server):
    """What a log aggregator groups by: `deliveryhub` for the whole process, the module for each
    of the split shape's processes."""
    if in_split():
        from split_shape import MODULES  # imports conftest: only in the split shape
        by_service = {m: server._records(server.module_log_lines(m)) for m in MODULES}
    else:
        by_service = {"deliveryhub": server.log_records()}
    for service, records in by_service.items():
        records = [r for r in records if "msg" in r]
        assert records, service
        assert {r.get("service") for r in records} == {service}, \
            [r for r in records if r.get("service") != service][:3]
