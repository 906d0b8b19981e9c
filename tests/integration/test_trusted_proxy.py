"""--trusted-proxy: behind a gateway the client's address comes from the gateway's
X-Forwarded-For (access log, login throttle); from anyone else that header is ignored."""
import pytest

from conftest import single_process, strong_password, unique_email, wait_for
from test_oauth import _assert_throttled, assert_oauth_error, password_grant

# These tests play the gateway themselves, from 127.0.0.1.
pytestmark = single_process


def remote_of(server, marker):
    """The access log's address of the request whose path carries `marker`."""
    def find():
        return [r["remote"] for r in server.log_records() if r.get("msg") == "request" and marker in r.get("path", "")]
    return wait_for(find, 5, f"the access log line of {marker}")[0]


def test_the_trusted_gateways_header_names_the_client(make_server):
    server = make_server(extra_args=["--trusted-proxy", "127.0.0.1"])
    server.call("GET", "/api/v1/orders/ord_marker1", headers={"X-Forwarded-For": "203.0.113.9"})
    assert remote_of(server, "ord_marker1") == "203.0.113.9"
    # A forged hop left of an untrusted one is not believed; garbage is not logged.
    server.call("GET", "/api/v1/orders/ord_marker2", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.10"})
    assert remote_of(server, "ord_marker2") == "203.0.113.10"
    server.call("GET", "/api/v1/orders/ord_marker3", headers={"X-Forwarded-For": '"><b>, 203.0.113.11, zz'})
    assert remote_of(server, "ord_marker3") == "127.0.0.1"


def test_the_login_throttle_counts_each_client_behind_the_gateway(make_server):
    server = make_server(extra_args=["--trusted-proxy", "127.0.0.0/8"])
    account = server.register_customer(login=False)
    sprayer = {"X-Forwarded-For": "198.51.100.1"}
    for attempt in range(20):
        resp = password_grant(server, unique_email(f"spray{attempt}"), strong_password(), headers=sprayer)
        assert_oauth_error(resp, 400, "invalid_grant")
    _assert_throttled(password_grant(server, account.email, account.password, headers=sprayer))
    # Another client behind the same gateway is not punished for it.
    other = password_grant(server, account.email, account.password, headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status == 200, other.body


def test_without_trusted_proxies_the_header_is_ignored(make_server):
    server = make_server()
    server.call("GET", "/api/v1/orders/ord_marker4", headers={"X-Forwarded-For": "203.0.113.9"})
    assert remote_of(server, "ord_marker4") == "127.0.0.1"
    for attempt in range(20):  # claiming a new address each time does not escape the throttle
        resp = password_grant(server, unique_email(f"spray{attempt}"), strong_password(),
                              headers={"X-Forwarded-For": f"198.51.100.{attempt}"})
        assert_oauth_error(resp, 400, "invalid_grant")
    _assert_throttled(password_grant(server, unique_email("more"), strong_password(),
                                     headers={"X-Forwarded-For": "198.51.100.99"}))


@pytest.mark.parametrize("value", ["gateway", "10.0.0.0/33", "1.2.3.4/"])
def test_a_bad_trusted_proxy_stops_start_up(value):
    import subprocess
    from conftest import binary_path
    run = subprocess.run([binary_path(), "serve", "--listen", "127.0.0.1:0", "--trusted-proxy", value],
                         capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert run.returncode != 0
    assert "trusted-proxy" in run.stderr + run.stdout, run.stderr + run.stdout
