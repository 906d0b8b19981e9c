"""An external issuer replaces the built-in one: its JWKS file, its iss and aud.

The external issuer here is played by the openssl command line: it makes a P-256 key and signs
the token; the test converts OpenSSL's DER signature to JOSE's raw R||S.
"""
import json
import os
import subprocess
import tempfile
import time

from conftest import b64url_encode


def der_to_raw(der: bytes) -> bytes:
    # SEQUENCE { INTEGER r, INTEGER s }, short-form lengths (P-256 signatures are < 128 bytes).
    assert der[0] == 0x30
    pos = 2
    parts = []
    for _ in range(2):
        assert der[pos] == 0x02
        length = der[pos + 1]
        value = der[pos + 2:pos + 2 + length].lstrip(b"\x00")
        parts.append(value.rjust(32, b"\x00"))
        pos += 2 + length
    return parts[0] + parts[1]


def make_issuer(folder: str) -> tuple[str, dict]:
    key = os.path.join(folder, "issuer.pem")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], check=True)
    der = subprocess.run(["openssl", "ec", "-in", key, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    point = der[-65:]  # the uncompressed point ends the SubjectPublicKeyInfo
    assert point[0] == 0x04
    jwk = {"kty": "EC", "crv": "P-256", "x": b64url_encode(point[1:33]), "y": b64url_encode(point[33:]),
           "kid": "external-1", "alg": "ES256", "use": "sig"}
    return key, jwk


def sign(key: str, claims: dict, kid: str = "external-1") -> str:
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
    signing_input = (b64url_encode(json.dumps(header).encode()) + "." +
                     b64url_encode(json.dumps(claims).encode()))
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                         check=True, capture_output=True).stdout
    return signing_input + "." + b64url_encode(der_to_raw(der))


def test_tokens_of_the_configured_external_issuer_are_accepted(make_server):
    with tempfile.TemporaryDirectory() as folder:
        key, jwk = make_issuer(folder)
        jwks_path = os.path.join(folder, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump({"keys": [jwk]}, f)
        srv = make_server(extra_args=["--external-jwks-file", jwks_path, "--issuer", "https://idp.example",
                                      "--audience", "deliveryhub"])
        now = int(time.time())
        claims = {"iss": "https://idp.example", "aud": "deliveryhub", "sub": "ext-operator-1",
                  "exp": now + 300, "nbf": now - 5, "roles": ["operator"]}
        ok = srv.call("GET", "/api/v1/customers", token=sign(key, claims))
        assert ok.status == 200, ok.body
        assert ok.body["data"] == [] or isinstance(ok.body["data"], list)

        wrong_issuer = dict(claims, iss="https://evil.example")
        assert srv.call("GET", "/api/v1/customers", token=sign(key, wrong_issuer)).status == 401
        wrong_audience = dict(claims, aud="someone-else")
        assert srv.call("GET", "/api/v1/customers", token=sign(key, wrong_audience)).status == 401
        unknown_kid = sign(key, claims, kid="external-2")
        assert srv.call("GET", "/api/v1/customers", token=unknown_kid).status == 401


def test_built_in_tokens_are_not_trusted_once_an_external_issuer_is_configured(make_server):
    with tempfile.TemporaryDirectory() as folder:
        _, jwk = make_issuer(folder)
        jwks_path = os.path.join(folder, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump({"keys": [jwk]}, f)
        srv = make_server(extra_args=["--external-jwks-file", jwks_path])
        token = srv.operator_token()  # still issued by the built-in token endpoint
        assert srv.call("GET", "/api/v1/customers", token=token).status == 401


def test_an_external_jwks_without_usable_keys_stops_start_up():
    from test_process import run
    with tempfile.TemporaryDirectory() as folder:
        jwks_path = os.path.join(folder, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump({"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]}, f)
        result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{folder}/db.sqlite",
                      "--external-jwks-file", jwks_path])
    assert result.returncode == 2
    assert "no EC P-256 keys" in result.stderr
