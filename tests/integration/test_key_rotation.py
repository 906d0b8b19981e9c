"""Rotating the JWT signing key with two keys in the JWKS (--jwt-verify-key-file, docs/runbook.md):
publish the next key first, then sign with it while the old one still verifies, then drop the old
one. Tokens signed with the old key keep working until the last step, and only then stop."""
import subprocess

from conftest import (assert_bearer_challenge, assert_json, binary_path, decode_jwt, single_process)

# It restarts one process with other flags between the steps.
pytestmark = single_process


def make_key(folder, name):
    path = folder / f"{name}.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)],
                   check=True, capture_output=True)
    return str(path)


def restart_with(server, *args):
    server.send_signal()
    assert server.wait_exit() == 0, server.output_tail()
    server.extra_args = list(args)
    server.start()


def published_kids(server):
    return [k["kid"] for k in assert_json(server.call("GET", "/.well-known/jwks.json"), 200)["keys"]]


def test_a_signing_key_is_rotated_without_rejecting_a_valid_token(make_server, tmp_path):
    old, new = make_key(tmp_path, "old"), make_key(tmp_path, "new")
    server = make_server(extra_args=["--jwt-key-file", old])
    account = server.register_customer()
    old_token = account.token
    old_kid = decode_jwt(old_token)[0]["kid"]
    assert published_kids(server) == [old_kid]
    me = f"/api/v1/customers/{account.id}"

    # 1. The next key is published (and trusted) before anything is signed with it.
    restart_with(server, "--jwt-key-file", old, "--jwt-verify-key-file", new)
    kids = published_kids(server)
    assert len(kids) == 2 and kids[0] == old_kid
    new_kid = kids[1]
    assert decode_jwt(server.login(account.email, account.password)["access_token"])[0]["kid"] == old_kid

    # 2. Sign with the new key; the old one still verifies the tokens it signed.
    restart_with(server, "--jwt-key-file", new, "--jwt-verify-key-file", old)
    assert published_kids(server) == [new_kid, old_kid]
    new_token = server.login(account.email, account.password)["access_token"]
    assert decode_jwt(new_token)[0]["kid"] == new_kid
    for token in (old_token, new_token):
        assert server.call("GET", me, token=token).status == 200

    # 3. Once the old tokens have expired (--access-token-ttl), the old key goes.
    restart_with(server, "--jwt-key-file", new)
    assert published_kids(server) == [new_kid]
    assert server.call("GET", me, token=new_token).status == 200
    assert_bearer_challenge(server.call("GET", me, token=old_token), invalid_token=True)


def test_an_unreadable_verify_key_stops_start_up(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    run = subprocess.run([binary_path(), "serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{tmp_path}/db.sqlite",
                          "--jwt-key-file", make_key(tmp_path, "k"), "--jwt-verify-key-file", str(bad)],
                         capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin"})
    assert run.returncode != 0
    assert "--jwt-verify-key-file" in run.stderr, run.stderr
