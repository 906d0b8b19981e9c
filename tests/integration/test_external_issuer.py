"""An external issuer replaces the built-in one: its JWKS file, its iss and aud.

The external issuer here is played by the openssl command line: it makes a P-256 key and signs
the token; the test converts OpenSSL's DER signature to JOSE's raw R||S.
"""
import json
import os
import subprocess
import tempfile
import time

from conftest import b64url_encode, der_to_raw, single_process

pytestmark = single_process


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


class JwksServer:
    """Serves a JWKS document on 127.0.0.1 (optionally over TLS); the document can be swapped."""

    def __init__(self, document: dict, certfile: str | None = None):
        import http.server
        import ssl
        import threading
        owner = self
        self.document = document
        self.hits = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                owner.hits += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_jwks_from_a_url_is_fetched_and_refreshed(make_server):
    from conftest import wait_for
    with tempfile.TemporaryDirectory() as folder:
        key1, jwk1 = make_issuer(folder)
        key2_dir = os.path.join(folder, "second")
        os.mkdir(key2_dir)
        key2, jwk2 = make_issuer(key2_dir)
        jwk2["kid"] = "external-2"
        jwks = JwksServer({"keys": [jwk1]})
        try:
            srv = make_server(extra_args=["--external-jwks-url", jwks.url, "--jwks-refresh", "10",
                                          "--issuer", "https://idp.example", "--audience", "deliveryhub"])
            now = int(time.time())
            claims = {"iss": "https://idp.example", "aud": "deliveryhub", "sub": "ext-op",
                      "exp": now + 300, "roles": ["operator"]}
            assert srv.call("GET", "/api/v1/customers", token=sign(key1, claims)).status == 200
            rotated = sign(key2, claims, kid="external-2")
            assert srv.call("GET", "/api/v1/customers", token=rotated).status == 401
            # The issuer rotates its key; the next refresh (≤ 10 s) picks it up.
            jwks.document = {"keys": [jwk2]}
            wait_for(lambda: srv.call("GET", "/api/v1/customers", token=rotated).status == 200, 25,
                     "the rotated key after a JWKS refresh")
        finally:
            jwks.close()


def test_an_unreachable_jwks_url_stops_start_up():
    from test_process import run
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{folder}/db.sqlite",
                      "--external-jwks-url", f"http://127.0.0.1:{port}/jwks.json"])
    assert result.returncode == 1
    assert "--external-jwks-url" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_jwks_url_with_an_untrusted_certificate_is_refused():
    from test_process import run
    with tempfile.TemporaryDirectory() as folder:
        pem = os.path.join(folder, "self-signed.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", pem, "-out", pem + ".crt"],
                       check=True, capture_output=True)
        with open(pem, "a") as combined, open(pem + ".crt") as cert:
            combined.write(cert.read())
        _, jwk = make_issuer(folder)
        jwks = JwksServer({"keys": [jwk]}, certfile=pem)
        try:
            result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{folder}/db.sqlite",
                          "--external-jwks-url", jwks.url])
        finally:
            jwks.close()
    assert result.returncode == 1
    assert "certificate verify failed" in result.stderr or "handshake" in result.stderr, result.stderr


def test_jwks_file_and_url_together_are_refused():
    from test_process import run
    result = run(["serve", "--external-jwks-file", "/tmp/a.json", "--external-jwks-url", "http://127.0.0.1:1/"])
    assert result.returncode == 2
    assert "not both" in result.stderr
