"""Every rejection path asserts the status, the problem body, and that nothing changed."""
import hashlib
import hmac
import json
import urllib.parse

import pytest

from conftest import (MALFORMED_SLUGS, MIB, assert_bearer_challenge, assert_field_error,
                      assert_json, assert_problem, b64url_decode, b64url_encode, decode_jwt,
                      describe, encode_jwt, strong_password, unique_email)

ADDRESS = {"label": "Home", "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013",
           "country": "ES"}
KINDS = ("register", "patch", "address")


class Target:
    """One write endpoint, a valid body for it, and a way to read back what it could change."""

    def __init__(self, server, kind: str) -> None:
        self.server = server
        self.kind = kind
        self.email = unique_email("rej")
        if kind == "register":
            self.account = None
            self.method, self.path, self.token = "POST", "/api/v1/customers", None
            self.valid = {"email": self.email, "password": strong_password(), "name": "Valid"}
        else:
            self.account = server.register_customer(email=self.email, phone="600000001")
            self.token = self.account.token
            if kind == "patch":
                self.method, self.path = "PATCH", f"/api/v1/customers/{self.account.id}"
                self.valid = {"name": "Changed Name"}
            else:
                self.method = "POST"
                self.path = f"/api/v1/customers/{self.account.id}/addresses"
                self.valid = dict(ADDRESS)
        self.before = self.snapshot()

    def snapshot(self):
        if self.kind == "register":
            return self.server.search_by_email(self.email)
        return self.server.get_customer(self.account.id)

    def send(self, body=None, **kwargs):
        kwargs.setdefault("token", self.token)
        return self.server.call(self.method, self.path, body, **kwargs)

    def with_field(self, field, value):
        body = dict(self.valid)
        body[field] = value
        return body

    def without_field(self, field):
        return {k: v for k, v in self.valid.items() if k != field}

    def assert_unchanged(self) -> None:
        assert self.snapshot() == self.before, f"{self.kind}: state changed by a rejected write"


@pytest.fixture(params=KINDS)
def target(server, request):
    return Target(server, request.param)


# -- bodies that are not a JSON object --------------------------------------------------------


@pytest.mark.parametrize("raw", [
    b'{"name": ',
    b"{name: \"x\"}",
    b"{'name': 'x'}",
    b'{"name": "x",}',
    b'{"name": "x"} trailing',
    b"\xff\xfe\x00garbage",
    b"",
], ids=["truncated", "unquoted-key", "single-quotes", "trailing-comma", "trailing-garbage",
        "not-utf8", "empty"])
def test_malformed_json_is_400(target, raw):
    resp = target.send(raw=raw)
    assert_problem(resp, 400, MALFORMED_SLUGS)
    target.assert_unchanged()


@pytest.mark.parametrize("raw", [b"[]", b'[{"name": "x"}]', b'"string"', b"42", b"null",
                                 b"true"])
def test_non_object_json_is_400(target, raw):
    resp = target.send(raw=raw)
    assert_problem(resp, 400, MALFORMED_SLUGS)
    target.assert_unchanged()


# -- shape and constraint violations ---------------------------------------------------------

WRONG_TYPES = {
    "register": [("email", 123), ("email", {"a": 1}), ("password", 12345678901234),
                 ("name", ["Ada"]), ("name", None), ("phone", 600123456), ("phone", True)],
    "patch": [("name", 5), ("name", None), ("name", {"first": "A"}), ("phone", 600123456),
              ("phone", ["600"])],
    "address": [("label", ["Home"]), ("line1", 1), ("city", None), ("postal_code", 28013),
                ("country", 34)],
}


@pytest.mark.parametrize("kind,field,value",
                         [(k, f, v) for k, cases in WRONG_TYPES.items() for f, v in cases])
def test_wrong_type_is_400_naming_field(server, kind, field, value):
    target = Target(server, kind)
    resp = target.send(target.with_field(field, value))
    assert_field_error(resp, field)
    target.assert_unchanged()


MISSING = {"register": ["email", "password", "name"],
           "address": ["label", "line1", "city", "postal_code", "country"]}


@pytest.mark.parametrize("kind,field",
                         [(k, f) for k, fields in MISSING.items() for f in fields])
def test_missing_field_is_400_naming_field(server, kind, field):
    target = Target(server, kind)
    resp = target.send(target.without_field(field))
    assert_field_error(resp, field)
    target.assert_unchanged()


def test_register_empty_object_names_every_required_field(server):
    resp = server.call("POST", "/api/v1/customers", {})
    body = assert_field_error(resp, "email")
    assert {"email", "password", "name"} <= {e["field"] for e in body["errors"]}


def _too_long_email() -> str:
    local = "t".ljust(64, "x")
    domain = "d" * 63 + "." + "e" * 63 + "." + "f" * 58 + ".com"
    email = f"{local}@{domain}"
    assert len(email) == 255
    return email


CONSTRAINTS = {
    "register": [("email", "not-an-email"), ("email", "a@"), ("email", "@example.com"),
                 ("email", "two@@example.com"), ("email", ""), ("email", "__LONG_EMAIL__"),
                 ("password", "p" * 9), ("password", "p" * 129), ("password", ""),
                 ("name", ""), ("name", "n" * 201), ("phone", "call me"),
                 ("phone", "1" * 33)],
    "patch": [("name", ""), ("name", "n" * 201), ("phone", "abc"), ("phone", "1" * 33)],
    "address": [("country", "ESP"), ("country", "E"), ("country", ""), ("country", "1X")],
}


@pytest.mark.parametrize("kind,field,value",
                         [(k, f, v) for k, cases in CONSTRAINTS.items() for f, v in cases])
def test_constraint_violation_is_400_naming_field(server, kind, field, value):
    if value == "__LONG_EMAIL__":
        value = _too_long_email()
    target = Target(server, kind)
    resp = target.send(target.with_field(field, value))
    assert_field_error(resp, field)
    target.assert_unchanged()


MASS_ASSIGNMENT = {
    "register": [("status", "suspended"), ("role", "operator"), ("roles", ["operator"]),
                 ("id", "cus_01JD3AAAAAAAAAAAAAAAAAAAAA"), ("version", 7),
                 ("password_hash", "x"), ("created_at", "2020-01-01T00:00:00Z")],
    "patch": [("status", "suspended"), ("role", "operator"), ("id", "cus_x"), ("version", 99),
              ("email", "new-address@example.com"), ("password", "another-password"),
              ("addresses", [])],
    "address": [("id", "adr_chosen"), ("customer_id", "cus_x"), ("status", "x"),
                ("role", "operator")],
}


@pytest.mark.parametrize("kind,field,value",
                         [(k, f, v) for k, cases in MASS_ASSIGNMENT.items() for f, v in cases])
def test_unknown_field_is_400_naming_field(server, kind, field, value):
    target = Target(server, kind)
    resp = target.send(target.with_field(field, value))
    assert_field_error(resp, field, "unknown field")
    target.assert_unchanged()


def test_mass_assignment_rejected_then_valid_body_accepted(server):
    # Control: the same body without the forbidden field goes through.
    email = unique_email("mass")
    body = {"email": email, "password": strong_password(), "name": "Mallory", "status": "x",
            "role": "operator"}
    resp = server.call("POST", "/api/v1/customers", body)
    problem = assert_problem(resp, 400, "validation-error")
    named = {e["field"] for e in problem["errors"] if e["message"] == "unknown field"}
    assert named & {"status", "role"}, describe(resp)
    assert server.search_by_email(email) == []
    del body["status"], body["role"]
    created = assert_json(server.call("POST", "/api/v1/customers", body), 201)
    assert created["status"] == "active"
    tokens = server.login(email, body["password"])
    assert decode_jwt(tokens["access_token"])[1]["roles"] == ["customer"]


# -- media types, sizes ----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml", "multipart/form-data", None])
def test_wrong_content_type_is_415(target, content_type):
    resp = target.send(target.valid, content_type=content_type)
    assert_problem(resp, 415, "unsupported-media-type")
    target.assert_unchanged()


@pytest.mark.parametrize("kind", ["register", "address"])
def test_merge_patch_content_type_only_for_patch(server, kind):
    target = Target(server, kind)
    resp = target.send(target.valid, content_type="application/merge-patch+json")
    assert_problem(resp, 415, "unsupported-media-type")
    target.assert_unchanged()


def _oversized_body(target, size: int) -> bytes:
    """A JSON object of exactly `size` bytes: the valid body plus a padded name."""
    body = dict(target.valid)
    body["name"] = ""
    skeleton = json.dumps(body).encode()
    return json.dumps(dict(body, name="n" * (size - len(skeleton)))).encode()


@pytest.mark.gateway
def test_body_over_1_mib_is_413(target):
    payload = _oversized_body(target, MIB + 1024)
    head = target.server.request_head(target.method, target.path, {
        "Content-Type": "application/json", "Content-Length": str(len(payload)),
        **({"Authorization": f"Bearer {target.token}"} if target.token else {})})
    chunks = [payload[i:i + 65536] for i in range(0, len(payload), 65536)]
    resp = target.server.raw_exchange(head, chunks, method=target.method)
    assert_problem(resp, 413, "payload-too-large")
    target.assert_unchanged()


@pytest.mark.gateway
def test_chunked_body_over_1_mib_is_413(server):
    target = Target(server, "register")
    payload = _oversized_body(target, MIB + 1024)
    head = server.request_head("POST", "/api/v1/customers", {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    chunks = []
    for i in range(0, len(payload), 65536):
        piece = payload[i:i + 65536]
        chunks.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    chunks.append(b"0\r\n\r\n")
    resp = server.raw_exchange(head, chunks, method="POST")
    assert_problem(resp, 413, "payload-too-large")
    target.assert_unchanged()


@pytest.mark.gateway
def test_body_of_exactly_1_mib_is_not_413(server):
    # The limit is "over 1 MiB": exactly 1 MiB is read and then judged on content.
    target = Target(server, "register")
    payload = _oversized_body(target, MIB)
    assert len(payload) == MIB
    resp = server.call("POST", "/api/v1/customers", raw=payload)
    assert_field_error(resp, "name")
    target.assert_unchanged()


@pytest.mark.gateway
def test_headers_over_16_kib_are_431(server):
    head = server.request_head("GET", "/livez", {"X-Padding": "a" * (17 * 1024)})
    resp = server.raw_exchange(head)
    assert_problem(resp, 431, "request-header-fields-too-large")


@pytest.mark.gateway
def test_headers_over_16_kib_on_write_are_431_and_create_nothing(server):
    target = Target(server, "register")
    payload = json.dumps(target.valid).encode()
    head = server.request_head("POST", "/api/v1/customers", {
        "Content-Type": "application/json", "Content-Length": str(len(payload)),
        **{f"X-Pad-{i}": "b" * 1024 for i in range(18)}})
    resp = server.raw_exchange(head, [payload], method="POST")
    assert_problem(resp, 431, "request-header-fields-too-large")
    target.assert_unchanged()


@pytest.mark.gateway
def test_headers_under_the_limit_are_fine(server):
    head = server.request_head("GET", "/livez", {"X-Padding": "a" * (12 * 1024)})
    resp = server.raw_exchange(head)
    assert resp.status == 200, describe(resp)


# -- conflicts -------------------------------------------------------------------------------


@pytest.mark.storage
@pytest.mark.parametrize("transform", [str, str.upper], ids=["same", "upper-case"])
def test_duplicate_email_is_409(server, transform):
    original = server.register_customer(name="Original Owner")
    resp = server.call("POST", "/api/v1/customers",
                       {"email": transform(original.email), "password": strong_password(),
                        "name": "Impostor"})
    assert_problem(resp, 409, "conflict")
    matches = server.search_by_email(original.email)
    assert len(matches) == 1
    assert matches[0] == server.get_customer(original.id)
    assert matches[0]["name"] == "Original Owner"
    server.login(original.email, original.password)  # the original password still works


# -- not yours -------------------------------------------------------------------------------


def test_other_customers_resources_are_404_and_unchanged(server):
    owner = server.register_customer()
    intruder = server.register_customer()
    op = server.operator_token()
    address = assert_json(server.call("POST", f"/api/v1/customers/{owner.id}/addresses",
                                      ADDRESS, token=op), 201)
    before = server.get_customer(owner.id)
    base = f"/api/v1/customers/{owner.id}"

    attempts = [
        server.call("GET", base, token=intruder.token),
        server.call("PATCH", base, {"name": "Hijacked"}, token=intruder.token),
        server.call("PATCH", base, {"name": "Hijacked"}, token=intruder.token,
                    headers={"If-Match": f'"{before["version"]}"'}),
        server.call("POST", f"{base}/addresses", ADDRESS, token=intruder.token),
        server.call("DELETE", f"{base}/addresses/{address['id']}", token=intruder.token),
    ]
    for resp in attempts:
        assert_problem(resp, 404, "not-found")
    assert server.get_customer(owner.id) == before

    # An address id of someone else under one's own id is not found either.
    own = server.call("DELETE", f"/api/v1/customers/{intruder.id}/addresses/{address['id']}",
                      token=intruder.token)
    assert_problem(own, 404, "not-found")
    assert server.get_customer(owner.id) == before


@pytest.mark.gateway
@pytest.mark.parametrize("bad_id", ["x" * 300, "cus_%27%20OR%201%3D1--", "%00", "cus_..%2F..",
                                    "cus_" + "Z" * 26])
def test_odd_ids_are_404_not_500(server, bad_id):
    # 404 is the contract's answer for an unknown id; a path the server refuses to decode
    # may fairly be a 400. Never a 500.
    resp = server.call("GET", f"/api/v1/customers/{bad_id}", token=server.operator_token())
    assert resp.status in (400, 404), describe(resp)
    assert_problem(resp, resp.status, "not-found" if resp.status == 404 else None)


# -- authentication --------------------------------------------------------------------------


def _write_requests(server, account):
    base = f"/api/v1/customers/{account.id}"
    return [
        ("GET", base, None),
        ("PATCH", base, {"name": "No Auth"}),
        ("POST", f"{base}/addresses", ADDRESS),
        ("DELETE", f"{base}/addresses/adr_00000000000000000000000000", None),
        ("POST", f"{base}/suspend", None),
        ("GET", "/api/v1/customers?" + urllib.parse.urlencode({"email": account.email}), None),
    ]


def test_no_token_is_401_with_bearer_challenge(server):
    account = server.register_customer()
    before = server.get_customer(account.id)
    for method, path, body in _write_requests(server, account):
        resp = server.call(method, path, body)
        assert_bearer_challenge(resp, invalid_token=False)
    assert server.get_customer(account.id) == before


def _bad_tokens(server, account):
    real = account.token
    header, claims, signature = decode_jwt(real)
    h64, c64, s64 = real.split(".")
    jwks = assert_json(server.call("GET", "/.well-known/jwks.json"), 200)
    escalated = dict(claims, roles=["operator"])
    expired = dict(claims, exp=claims["iat"] - 3600, nbf=claims["iat"] - 7200,
                   iat=claims["iat"] - 7200)
    return {
        "garbage": "not-a-jwt",
        "three-garbage-segments": "a.b.c",
        "truncated": real[:-10],
        "alg-none": encode_jwt(dict(header, alg="none"), claims),
        "alg-none-keeps-signature": encode_jwt(dict(header, alg="none"), claims, signature),
        "escalated-roles": encode_jwt(header, escalated, signature),
        "expired-looking": encode_jwt(header, expired, signature),
        "other-subject": encode_jwt(header, dict(claims, sub="cus_00000000000000000000000000"),
                                    signature),
        "hs256-with-public-key": _hs256(dict(header, alg="HS256"), claims,
                                        json.dumps(jwks["keys"][0]).encode()),
        "unknown-kid": encode_jwt(dict(header, kid="not-a-known-kid"), claims, signature),
        "signature-flipped": f"{h64}.{c64}.{_flip(s64)}",
        "empty-signature": f"{h64}.{c64}.",
    }


def _hs256(header, claims, key):
    unsigned = encode_jwt(header, claims)[:-1]  # "h.c."[:-1] -> "h.c"
    mac = hmac.new(key, unsigned.encode(), hashlib.sha256).digest()
    return encode_jwt(header, claims, mac)


def _flip(segment: str) -> str:
    raw = bytearray(b64url_decode(segment))
    raw[len(raw) // 2] ^= 0x01
    return b64url_encode(bytes(raw))


def test_bad_tokens_are_401_invalid_token(server):
    account = server.register_customer()
    before = server.get_customer(account.id)
    for name, bad in _bad_tokens(server, account).items():
        for method, path, body in _write_requests(server, account):
            resp = server.call(method, path, body, token=bad)
            try:
                assert_bearer_challenge(resp, invalid_token=True)
            except AssertionError as exc:
                raise AssertionError(f"token {name!r} on {method} {path}: {exc}") from None
    after = server.get_customer(account.id)
    assert after == before
    assert after["status"] == "active"  # the escalated token could not suspend


def test_forged_operator_token_cannot_search_or_suspend(server):
    victim = server.register_customer()
    header, claims, signature = decode_jwt(victim.token)
    forged = encode_jwt(header, dict(claims, roles=["operator"]), signature)
    resp = server.call("POST", f"/api/v1/customers/{victim.id}/suspend", token=forged)
    assert_bearer_challenge(resp, invalid_token=True)
    assert server.get_customer(victim.id)["status"] == "active"


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ",
                                           "Token abc", "bearer"])
def test_malformed_authorization_header_is_401(server, authorization):
    account = server.register_customer()
    resp = server.call("GET", f"/api/v1/customers/{account.id}",
                       headers={"Authorization": authorization})
    assert_problem(resp, 401, "unauthorized")
    assert resp.headers.get("www-authenticate", "").startswith("Bearer"), describe(resp)


def test_valid_token_still_works_after_all_rejections(server):
    account = server.register_customer()
    resp = server.call("GET", f"/api/v1/customers/{account.id}", token=account.token)
    assert assert_json(resp, 200)["id"] == account.id


def test_zz_server_still_alive(server):
    assert assert_json(server.call("GET", "/livez"), 200) == {"status": "ok"}
    for process in server.processes():
        assert assert_json(process.call("GET", "/readyz"), 200) == {"status": "ready"}
