"""Sign-in for browsers: GET/POST /oauth/authorize (the sign-in page), the authorization code
grant with PKCE (S256 only) for the console's public client, refresh tokens bound to that client,
RFC 7009 revocation, and CORS for configured origins only.

The browser is played by hand here (cookies and redirects read from headers), so every
rejection path can be checked exactly; tests/browser drives the same flow in Chromium.
"""
import base64
import hashlib
import html.parser
import re
import secrets
import urllib.parse

import pytest

from conftest import assert_json, assert_problem, describe, in_split, unique_email, strong_password

CLIENT = "deliveryhub-console"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def redirect_uri(server) -> str:
    return f"http://127.0.0.1:{server.port}/app/"


def pkce_pair() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(48)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class FormReader(html.parser.HTMLParser):
    """The hidden fields of the sign-in form, its action, and the page's alert text."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action = None
        self.alert = ""
        self._in_alert = False
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "form":
            self.action = a.get("action")
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        if a.get("role") == "alert":
            self._in_alert = True

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_alert = False

    def handle_data(self, data):
        if self._in_alert:
            self.alert += data


def authorize_query(server, challenge: str, state: str = "st-1", **overrides) -> str:
    params = {"response_type": "code", "client_id": CLIENT, "redirect_uri": redirect_uri(server),
              "code_challenge": challenge, "code_challenge_method": "S256", "state": state}
    params.update(overrides)
    return urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


def open_sign_in(server, challenge: str, headers=None, **overrides):
    """GET /oauth/authorize → (page response, hidden fields, csrf cookie)."""
    resp = server.call("GET", "/oauth/authorize?" + authorize_query(server, challenge, **overrides),
                       headers={**BROWSER, **(headers or {})})
    assert resp.status == 200, describe(resp)
    reader = FormReader()
    reader.feed(resp.raw.decode("utf-8"))
    cookie = resp.headers["set-cookie"]
    match = re.match(r"dh_signin=([^;]+);", cookie)
    assert match, cookie
    return resp, reader, match.group(1)


def post_sign_in(server, fields: dict, cookie: str | None, headers=None):
    hdrs = {**BROWSER, **(headers or {})}
    if cookie is not None:
        hdrs["Cookie"] = f"other=1; dh_signin={cookie}"
    return server.form("/oauth/authorize", fields, headers=hdrs)


def redirect_params(resp) -> dict:
    assert resp.status == 303, describe(resp)
    location = resp.headers["location"]
    parsed = urllib.parse.urlsplit(location)
    return {"base": urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path, "", "")),
            **dict(urllib.parse.parse_qsl(parsed.query))}


def sign_in(server, email: str, password: str, challenge: str, state: str = "st-1") -> dict:
    _, form, cookie = open_sign_in(server, challenge, state=state)
    resp = post_sign_in(server, {**form.fields, "email": email, "password": password, "action": "sign_in"}, cookie)
    return redirect_params(resp)


def redeem(server, code: str, verifier: str, **overrides):
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(server),
              "client_id": CLIENT, "code_verifier": verifier}
    fields.update(overrides)
    return server.token_request({k: v for k, v in fields.items() if v is not None})


@pytest.fixture(scope="module")
def customer(server):
    return server.register_customer(login=False)


def test_a_customer_signs_in_with_pkce_and_gets_tokens_bound_to_the_console(server, customer):
    verifier, challenge = pkce_pair()
    page, form, _ = open_sign_in(server, challenge, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, csp
    assert page.headers["x-frame-options"] == "DENY"
    assert "no-store" in page.headers["cache-control"]
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/oauth/authorize" in cookie, cookie
    assert form.lang == "en" and form.action == "/oauth/authorize"
    assert form.fields["client_id"] == CLIENT and form.fields["state"] == "st-1"

    back = sign_in(server, customer.email, customer.password, challenge, state="round-trip")
    assert back["base"] == redirect_uri(server)
    assert back["state"] == "round-trip" and back["iss"] and back["code"]

    tokens = assert_json(redeem(server, back["code"], verifier), 200)
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    me = server.call("GET", f"/api/v1/customers/{customer.id}", token=tokens["access_token"])
    assert me.status == 200, describe(me)

    # The refresh token is the console's: refreshed with its client_id, never without it.
    assert_problem(server.token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}),
                   400)
    rotated = assert_json(server.token_request({"grant_type": "refresh_token", "client_id": CLIENT,
                                                 "refresh_token": tokens["refresh_token"]}), 200)
    assert rotated["refresh_token"] != tokens["refresh_token"]


def test_a_code_is_redeemed_once_and_a_second_try_revokes_what_the_first_got(server, customer):
    verifier, challenge = pkce_pair()
    code = sign_in(server, customer.email, customer.password, challenge)["code"]
    first = assert_json(redeem(server, code, verifier), 200)
    body = assert_problem(redeem(server, code, verifier), 400)
    assert body["error"] == "invalid_grant"
    refreshed = server.token_request({"grant_type": "refresh_token", "client_id": CLIENT,
                                      "refresh_token": first["refresh_token"]})
    assert assert_problem(refreshed, 400)["error"] == "invalid_grant"


@pytest.mark.parametrize("change", ["wrong-verifier", "other-redirect", "other-client", "no-verifier"])
def test_a_code_needs_its_verifier_redirect_uri_and_client(server, customer, change):
    verifier, challenge = pkce_pair()
    code = sign_in(server, customer.email, customer.password, challenge)["code"]
    overrides = {
        "wrong-verifier": {"code_verifier": pkce_pair()[0]},
        "other-redirect": {"redirect_uri": f"http://localhost:{server.port}/app/"},
        "other-client": {"client_id": "someone-else"},
        "no-verifier": {"code_verifier": None},
    }[change]
    resp = redeem(server, code, verifier, **overrides)
    expected = {"other-client": (401, "invalid_client"), "no-verifier": (400, "invalid_request")}.get(
        change, (400, "invalid_grant"))
    assert assert_problem(resp, expected[0])["error"] == expected[1], describe(resp)
    if change in ("wrong-verifier", "other-redirect"):
        # A failed redemption uses the code up: the right verifier afterwards gets nothing.
        assert assert_problem(redeem(server, code, verifier), 400)["error"] == "invalid_grant"


@pytest.mark.parametrize("case", ["unknown-client", "unregistered-redirect", "redirect-with-extra-path",
                                  "look-alike-host", "repeated-parameter"])
def test_an_unknown_client_or_redirect_gets_an_error_page_never_a_redirect(server, case):
    _, challenge = pkce_pair()
    query = {
        "unknown-client": authorize_query(server, challenge, client_id="evil-app"),
        "unregistered-redirect": authorize_query(server, challenge, redirect_uri="https://evil.example/app/"),
        "redirect-with-extra-path": authorize_query(server, challenge,
                                                    redirect_uri=redirect_uri(server) + "callback"),
        "look-alike-host": authorize_query(server, challenge, redirect_uri="http://127.0.0.1.evil.example/app/"),
        "repeated-parameter": authorize_query(server, challenge) + "&client_id=" + CLIENT,
    }[case]
    resp = server.call("GET", "/oauth/authorize?" + query, headers=BROWSER)
    assert resp.status == 400, describe(resp)
    assert "location" not in resp.headers
    assert resp.headers["content-type"].startswith("text/html")
    # A client that does not ask for HTML gets the refusal as a problem document.
    assert_problem(server.call("GET", "/oauth/authorize?" + query), 400)


@pytest.mark.parametrize("case,error", [("no-pkce", "invalid_request"), ("plain-pkce", "invalid_request"),
                                        ("token-response", "unsupported_response_type"),
                                        ("no-state", "invalid_request")])
def test_request_errors_go_back_to_the_client(server, case, error):
    _, challenge = pkce_pair()
    overrides = {
        "no-pkce": {"code_challenge": None, "code_challenge_method": None},
        "plain-pkce": {"code_challenge_method": "plain"},
        "token-response": {"response_type": "token"},
        "no-state": {"state": None},
    }[case]
    resp = server.call("GET", "/oauth/authorize?" + authorize_query(server, challenge, **overrides))
    back = redirect_params(resp)
    assert back["base"] == redirect_uri(server) and back["error"] == error, back
    if case != "no-state":
        assert back["state"] == "st-1"


def test_the_form_is_refused_without_its_cookie_or_with_another_one(server, customer):
    _, challenge = pkce_pair()
    _, form, cookie = open_sign_in(server, challenge)
    fields = {**form.fields, "email": customer.email, "password": customer.password, "action": "sign_in"}
    for sent_cookie in (None, "forged-" + cookie[7:]):
        resp = post_sign_in(server, fields, sent_cookie)
        assert resp.status == 403, describe(resp)
        assert "location" not in resp.headers
        assert_problem(server.form("/oauth/authorize", fields,
                                   headers={"Cookie": f"dh_signin={sent_cookie}"} if sent_cookie else None), 403)
    # A form rendered for one browser, posted with another browser's cookie: refused too.
    _, _, other_cookie = open_sign_in(server, challenge)
    assert post_sign_in(server, fields, other_cookie).status == 403
    assert redirect_params(post_sign_in(server, fields, cookie))["code"]


def test_wrong_credentials_show_the_form_again_in_the_chosen_language(server, customer):
    _, challenge = pkce_pair()
    _, form, cookie = open_sign_in(server, challenge, ui_locales="es")
    resp = post_sign_in(server, {**form.fields, "email": customer.email, "password": "not-the-password",
                                 "action": "sign_in"}, cookie)
    assert resp.status == 400, describe(resp)
    page = FormReader()
    page.feed(resp.raw.decode("utf-8"))
    assert page.lang == "es" and "contraseña" in page.alert, page.alert
    assert customer.email in resp.raw.decode("utf-8")  # refilled, escaped
    assert "location" not in resp.headers


def test_cancel_sends_access_denied_back(server):
    _, challenge = pkce_pair()
    _, form, cookie = open_sign_in(server, challenge)
    back = redirect_params(post_sign_in(server, {**form.fields, "action": "cancel"}, cookie))
    assert back["error"] == "access_denied" and back["state"] == "st-1" and "code" not in back


def test_html_in_the_state_is_escaped_on_the_page(server):
    _, challenge = pkce_pair()
    state = '"><script>alert(1)</script>'
    resp = server.call("GET", "/oauth/authorize?" + authorize_query(server, challenge, state=state), headers=BROWSER)
    assert resp.status == 200, describe(resp)
    text = resp.raw.decode("utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_a_suspended_customer_cannot_sign_in_and_their_code_is_worthless(server):
    account = server.register_customer(login=False)
    verifier, challenge = pkce_pair()
    code = sign_in(server, account.email, account.password, challenge)["code"]
    assert_json(server.call("POST", f"/api/v1/customers/{account.id}/suspend", token=server.operator_token()), 200)
    assert assert_problem(redeem(server, code, verifier), 400)["error"] == "invalid_grant"
    _, form, cookie = open_sign_in(server, challenge, ui_locales="en")
    again = post_sign_in(server, {**form.fields, "email": account.email, "password": account.password,
                                  "action": "sign_in"}, cookie)
    assert again.status == 400 and "suspended" in again.raw.decode("utf-8"), describe(again)


def test_revocation_ends_the_sign_in_and_is_refused_to_another_client(server, customer):
    verifier, challenge = pkce_pair()
    tokens = assert_json(redeem(server, sign_in(server, customer.email, customer.password, challenge)["code"],
                                verifier), 200)
    refresh = tokens["refresh_token"]
    # Only the client the token was issued to may revoke it.
    other = server.form("/oauth/revoke", {"token": refresh, "token_type_hint": "refresh_token"})
    assert assert_problem(other, 401)["error"] == "invalid_client"
    # Access tokens end on their own.
    access = server.form("/oauth/revoke", {"token": tokens["access_token"], "client_id": CLIENT})
    assert assert_problem(access, 400)["error"] == "unsupported_token_type"
    ok = server.form("/oauth/revoke", {"token": refresh, "token_type_hint": "refresh_token", "client_id": CLIENT})
    assert ok.status == 200, describe(ok)
    assert "no-store" in ok.headers["cache-control"]
    gone = server.token_request({"grant_type": "refresh_token", "client_id": CLIENT, "refresh_token": refresh})
    assert assert_problem(gone, 400)["error"] == "invalid_grant"
    # Unknown and already revoked tokens: 200 as well (RFC 7009 §2.2).
    for token in (refresh, "never-issued"):
        assert server.form("/oauth/revoke", {"token": token, "client_id": CLIENT}).status == 200
    # A password-grant refresh token (no client) is revoked by whoever holds it.
    login = server.login(customer.email, customer.password)
    assert server.form("/oauth/revoke", {"token": login["refresh_token"]}).status == 200
    gone = server.token_request({"grant_type": "refresh_token", "refresh_token": login["refresh_token"]})
    assert assert_problem(gone, 400)["error"] == "invalid_grant"


def test_discovery_names_the_endpoints_and_s256(server):
    doc = assert_json(server.call("GET", "/.well-known/openid-configuration"), 200)
    assert doc["authorization_endpoint"] == "/oauth/authorize"
    assert doc["revocation_endpoint"] == "/oauth/revoke"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in doc["grant_types_supported"]
