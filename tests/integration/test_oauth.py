"""POST /oauth/token, the JWT it issues, JWKS and discovery metadata.

Failed logins count towards the per-client-address throttle (20 in 15 minutes from
127.0.0.1), so tests that fail on purpose are spread over separate servers: `server` (the
module's), `errors_server` (client and format errors) and fresh ones for the throttle tests.
"""
import base64
import time
import urllib.parse

import pytest

from conftest import (Server, assert_json, assert_problem, b64url_decode, decode_jwt, describe,
                      strong_password, unique_email)

TOKEN_TTL_S = 900


@pytest.fixture(scope="module")
def errors_server():
    srv = Server()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def discovery(server):
    return assert_json(server.call("GET", "/.well-known/openid-configuration"), 200)


@pytest.fixture(scope="module")
def jwks(server):
    return assert_json(server.call("GET", "/.well-known/jwks.json"), 200)


def assert_token_response(resp, refresh: bool) -> dict:
    body = assert_json(resp, 200)
    assert "no-store" in resp.headers.get("cache-control", ""), describe(resp)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == TOKEN_TTL_S
    assert isinstance(body["access_token"], str) and body["access_token"]
    if refresh:
        assert isinstance(body.get("refresh_token"), str) and body["refresh_token"], body
        assert body["refresh_token"] != body["access_token"]
    else:
        assert "refresh_token" not in body, body
    if "scope" in body:
        assert isinstance(body["scope"], str)
    return body


def assert_oauth_error(resp, status: int, error: str) -> dict:
    body = assert_problem(resp, status)
    assert body.get("error") == error, describe(resp)
    if "error_description" in body:
        assert isinstance(body["error_description"], str), describe(resp)
    return body


def assert_access_token(token: str, jwks: dict, discovery: dict, roles: list) -> dict:
    header, claims, signature = decode_jwt(token)
    assert header["alg"] == "ES256", header
    assert header["typ"] == "at+jwt", header
    assert isinstance(header.get("kid"), str) and header["kid"], header
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}, (header, jwks)
    assert len(signature) == 64, "ES256 JWS signature is r||s, 64 bytes"
    assert claims["iss"] == discovery["issuer"]
    aud = claims["aud"]
    assert (isinstance(aud, str) and aud) or (isinstance(aud, list) and aud), claims
    assert claims["roles"] == roles
    for key in ("exp", "iat", "nbf"):
        assert isinstance(claims[key], int), claims
    assert claims["exp"] - claims["iat"] == TOKEN_TTL_S
    assert claims["nbf"] <= claims["iat"] + 1
    assert abs(claims["iat"] - time.time()) < 300, "iat should be about now"
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert isinstance(claims["sub"], str) and claims["sub"]
    return claims


def password_grant(srv, email, password, headers=None):
    return srv.token_request({"grant_type": "password", "username": email, "password": password}, headers=headers)


def refresh_grant(srv, refresh_token):
    return srv.token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})


# -- discovery -------------------------------------------------------------------------------


def test_openid_configuration(discovery):
    assert isinstance(discovery["issuer"], str) and discovery["issuer"]
    assert urllib.parse.urlsplit(discovery["jwks_uri"]).path == "/.well-known/jwks.json"
    assert urllib.parse.urlsplit(discovery["token_endpoint"]).path == "/oauth/token"
    assert {"password", "client_credentials", "refresh_token"} <= \
        set(discovery["grant_types_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= \
        set(discovery["token_endpoint_auth_methods_supported"])
    # The authorization code grant with PKCE, for the browser console (test_browser_sign_in.py).
    assert discovery["response_types_supported"] == ["code"]


def test_jwks_publishes_public_ec_keys_only(jwks):
    assert set(jwks) == {"keys"}
    assert jwks["keys"], jwks
    for key in jwks["keys"]:
        assert key["kty"] == "EC"
        assert key["crv"] == "P-256"
        assert key["alg"] == "ES256"
        assert key["use"] == "sig"
        assert isinstance(key["kid"], str) and key["kid"]
        assert len(b64url_decode(key["x"])) == 32
        assert len(b64url_decode(key["y"])) == 32
        assert "d" not in key, "private key material in the JWKS"
    kids = [k["kid"] for k in jwks["keys"]]
    assert len(kids) == len(set(kids))


# -- password grant --------------------------------------------------------------------------


def test_password_grant_for_customer(server, jwks, discovery):
    account = server.register_customer(login=False)
    resp = password_grant(server, account.email, account.password)
    body = assert_token_response(resp, refresh=True)
    claims = assert_access_token(body["access_token"], jwks, discovery, ["customer"])
    assert claims["sub"] == account.id
    me = server.call("GET", f"/api/v1/customers/{account.id}", token=body["access_token"])
    assert assert_json(me, 200)["id"] == account.id


def test_password_grant_for_operator(server, jwks, discovery):
    resp = password_grant(server, server.operator_email, server.operator_password)
    body = assert_token_response(resp, refresh=True)
    assert_access_token(body["access_token"], jwks, discovery, ["operator"])


def test_each_token_has_its_own_jti(server):
    account = server.register_customer(login=False)
    first = server.login(account.email, account.password)
    second = server.login(account.email, account.password)
    assert decode_jwt(first["access_token"])[1]["jti"] != \
        decode_jwt(second["access_token"])[1]["jti"]
    assert first["refresh_token"] != second["refresh_token"]


def test_wrong_password_and_unknown_email_answer_identically(server):
    account = server.register_customer(login=False)
    wrong = password_grant(server, account.email, "definitely-not-it-123")
    unknown = password_grant(server, unique_email("ghost"), "definitely-not-it-123")
    for resp in (wrong, unknown):
        assert_oauth_error(resp, 400, "invalid_grant")
    assert wrong.status == unknown.status
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong.body) == strip(unknown.body)
    for header in ("content-type", "cache-control", "www-authenticate", "retry-after"):
        assert wrong.headers.get(header) == unknown.headers.get(header), header
    # The account itself is untouched: the right password still works.
    server.login(account.email, account.password)


# -- refresh rotation ------------------------------------------------------------------------


def test_refresh_rotation(server, jwks, discovery):
    account = server.register_customer(login=False)
    first = server.login(account.email, account.password)
    second = assert_token_response(refresh_grant(server, first["refresh_token"]), refresh=True)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    claims = assert_access_token(second["access_token"], jwks, discovery, ["customer"])
    assert claims["sub"] == account.id
    me = server.call("GET", f"/api/v1/customers/{account.id}", token=second["access_token"])
    assert me.status == 200, describe(me)
    # The rotated token keeps working down the chain.
    third = assert_token_response(refresh_grant(server, second["refresh_token"]), refresh=True)
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


@pytest.mark.storage
def test_refresh_reuse_revokes_the_family(server):
    account = server.register_customer(login=False)
    first = server.login(account.email, account.password)
    second = assert_token_response(refresh_grant(server, first["refresh_token"]), refresh=True)
    reuse = refresh_grant(server, first["refresh_token"])
    assert_oauth_error(reuse, 400, "invalid_grant")
    # Reuse of a dead token revokes the whole family, including the newer token.
    newer = refresh_grant(server, second["refresh_token"])
    assert_oauth_error(newer, 400, "invalid_grant")
    # Another login starts a new family that works.
    fresh = server.login(account.email, account.password)
    assert_token_response(refresh_grant(server, fresh["refresh_token"]), refresh=True)


def test_a_login_ends_after_the_family_lifetime_however_often_refreshed(make_server):
    """Issue 11: a family used at least once per refresh lifetime lived for ever. It now ends
    --refresh-family-lifetime after the login."""
    srv = make_server(extra_args=["--refresh-family-lifetime", "3"])
    account = srv.register_customer(login=False)
    tokens = srv.login(account.email, account.password)
    started = time.monotonic()
    while time.monotonic() - started < 3.5:
        resp = refresh_grant(srv, tokens["refresh_token"])
        if resp.status != 200:
            break
        tokens = resp.body
        time.sleep(0.5)
    assert time.monotonic() - started >= 2.4, "refreshing stopped well before the family's end"
    assert_oauth_error(resp, 400, "invalid_grant")
    # A new login is a new family.
    assert_token_response(refresh_grant(srv, srv.login(account.email, account.password)["refresh_token"]),
                          refresh=True)


def test_unknown_refresh_token_is_invalid_grant(server):
    assert_oauth_error(refresh_grant(server, "not-a-refresh-token"), 400, "invalid_grant")


def test_access_token_is_not_a_refresh_token(errors_server):
    account = errors_server.register_customer()
    resp = refresh_grant(errors_server, account.token)
    assert_oauth_error(resp, 400, "invalid_grant")


# -- client credentials ----------------------------------------------------------------------


def test_client_credentials_in_form(server, jwks, discovery):
    resp = server.token_request({"grant_type": "client_credentials",
                                 "client_id": server.client_id,
                                 "client_secret": server.client_secret})
    body = assert_token_response(resp, refresh=False)
    claims = assert_access_token(body["access_token"], jwks, discovery, ["service"])
    if "client_id" in claims:
        assert claims["client_id"] == server.client_id


def _basic(client_id: str, secret: str) -> str:
    pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def test_client_credentials_with_http_basic(server, jwks, discovery):
    resp = server.token_request({"grant_type": "client_credentials"},
                                headers={"Authorization": _basic(server.client_id,
                                                                 server.client_secret)})
    body = assert_token_response(resp, refresh=False)
    assert_access_token(body["access_token"], jwks, discovery, ["service"])


@pytest.mark.parametrize("how", ["wrong-secret-form", "unknown-client-form", "wrong-secret-basic"])
def test_bad_client_is_401_invalid_client(errors_server, how):
    srv = errors_server
    if how == "wrong-secret-form":
        resp = srv.token_request({"grant_type": "client_credentials", "client_id": srv.client_id,
                                  "client_secret": "wrong" + srv.client_secret})
    elif how == "unknown-client-form":
        resp = srv.token_request({"grant_type": "client_credentials", "client_id": "nobody",
                                  "client_secret": srv.client_secret})
    else:
        resp = srv.token_request({"grant_type": "client_credentials"},
                                 headers={"Authorization": _basic(srv.client_id, "wrong")})
    assert_oauth_error(resp, 401, "invalid_client")
    assert "access_token" not in resp.body


# -- malformed token requests ----------------------------------------------------------------


@pytest.mark.parametrize("grant", ["urn:ietf:params:oauth:grant-type:device_code", "implicit", "urn:ietf:params:oauth:x",
                                   "no-such-grant"])
def test_unsupported_grant_type(errors_server, grant):
    resp = errors_server.token_request({"grant_type": grant, "code": "abc",
                                        "username": "a@example.com", "password": "x" * 12})
    assert_oauth_error(resp, 400, "unsupported_grant_type")


@pytest.mark.parametrize("fields", [
    {"username": "a@example.com", "password": "x" * 12},
    {"grant_type": "password", "password": "x" * 12},
    {"grant_type": "password", "username": "a@example.com"},
    {"grant_type": "refresh_token"},
], ids=["no-grant-type", "no-username", "no-password", "no-refresh-token"])
def test_missing_parameter_is_invalid_request(errors_server, fields):
    resp = errors_server.token_request(fields)
    assert_oauth_error(resp, 400, "invalid_request")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_token_endpoint_requires_form_encoding(errors_server, content_type):
    srv = errors_server
    resp = srv.call("POST", "/oauth/token",
                    {"grant_type": "password", "username": srv.operator_email,
                     "password": srv.operator_password}, content_type=content_type)
    assert_problem(resp, 415, "unsupported-media-type")
    assert "access_token" not in (resp.body or {})


# -- throttling ------------------------------------------------------------------------------


def _assert_throttled(resp) -> None:
    assert_problem(resp, 429, "too-many-requests")
    retry_after = resp.headers.get("retry-after", "")
    assert retry_after.isdigit(), describe(resp)
    assert 0 <= int(retry_after) <= 15 * 60, describe(resp)
    assert "access_token" not in resp.body


def test_five_failures_throttle_the_account(make_server):
    srv = make_server()
    victim = srv.register_customer(login=False)
    bystander = srv.register_customer(login=False)
    for attempt in range(5):
        resp = password_grant(srv, victim.email, f"wrong-password-{attempt}")
        assert_oauth_error(resp, 400, "invalid_grant")
    _assert_throttled(password_grant(srv, victim.email, "wrong-password-again"))
    # While throttled even the right password is refused...
    _assert_throttled(password_grant(srv, victim.email, victim.password))
    # ...but only for that account.
    assert_token_response(password_grant(srv, bystander.email, bystander.password),
                          refresh=True)


def test_twenty_failures_throttle_the_client_address(make_server):
    srv = make_server()
    account = srv.register_customer(login=False)
    for attempt in range(20):
        resp = password_grant(srv, unique_email(f"spray{attempt}"), strong_password())
        assert_oauth_error(resp, 400, "invalid_grant")
    _assert_throttled(password_grant(srv, unique_email("spray-more"), strong_password()))
    _assert_throttled(password_grant(srv, account.email, account.password))


def test_basic_client_credentials_are_form_url_decoded(make_server):
    import base64
    secret = "ab:cd+ef/gh=ij%kl-mnopq"
    srv = make_server(extra_args=["--client", f"svc-special:{secret}:service:orders"])
    encoded = urllib.parse.quote(secret, safe="")
    basic = base64.b64encode(f"svc-special:{encoded}".encode()).decode()
    resp = srv.token_request({"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
    assert resp.status == 200, resp.body
    assert resp.body["token_type"] == "Bearer"
