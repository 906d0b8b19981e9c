"""The process as an operator sees it: --modules selection, migrate, flags, start-up errors."""
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time

import pytest

from conftest import binary_path, single_process
from split_shape import free_port

pytestmark = single_process


def run(args, env_extra=None, cwd=None, timeout=30):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
    env.update(env_extra or {})
    return subprocess.run([binary_path(), *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd or tempfile.gettempdir(), stdin=subprocess.DEVNULL)


def test_serve_with_only_customers_starts(make_server):
    srv = make_server(extra_args=["--modules", "customers"])
    assert srv.call("GET", "/readyz").status == 200
    listening = [line for line in srv.logs if line.get("msg") == "listening"]
    assert listening and listening[0]["modules"] == "customers"


def test_serve_with_all_modules_starts(make_server):
    srv = make_server(extra_args=["--modules", "all"])
    assert srv.call("GET", "/livez").status == 200


def test_unknown_module_fails_with_the_valid_list():
    result = run(["serve", "--modules", "customers,bogus", "--listen", "127.0.0.1:0"])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "unknown module 'bogus'" in lines[0] and "valid: all, customers, delivery, payments, orders, incidents" in lines[0]


def test_invalid_flag_value_exits_2_with_one_line():
    result = run(["serve", "--listen", "localhost"])
    assert result.returncode == 2
    assert result.stderr.startswith("deliveryhub: invalid setting:")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args,env,name", [
    (["--delivery-promise", "0"], {}, "delivery-promise"),
    (["--late-check-interval", "soon"], {}, "late-check-interval"),
    ([], {"DELIVERYHUB_ACCESS_TOKEN_TTL": "5"}, "access-token-ttl"),
    (["--max-saga-backlog", "-1"], {}, "max-saga-backlog"),
], ids=["delivery-promise-below-range", "late-check-not-a-number", "access-token-ttl-env-below-range",
        "saga-backlog-below-range"])
def test_a_modules_own_setting_is_validated_like_any_other(args, env, name):
    """Module settings (declared by each module's descriptor) are refused at start-up, exit 2 and
    one line naming the setting, whichever modules the process runs."""
    result = run(["serve", "--modules", "customers", "--listen", "127.0.0.1:0", *args], env_extra=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("deliveryhub: invalid setting:")
    assert name in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_environment_twin_is_validated_too():
    result = run(["serve"], env_extra={"DELIVERYHUB_LOG_LEVEL": "chatty"})
    assert result.returncode == 2
    assert "log-level" in result.stderr


def test_unreadable_signing_key_is_a_clear_start_up_error():
    with tempfile.TemporaryDirectory() as tmp:
        result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{tmp}/db.sqlite",
                      "--jwt-key-file", f"{tmp}/missing.pem"])
    assert result.returncode == 1
    assert "cannot read JWT signing key" in result.stderr


def test_bootstrap_needs_both_variables():
    with tempfile.TemporaryDirectory() as tmp:
        result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{tmp}/db.sqlite"],
                     env_extra={"DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL": "ops@example.com"})
    assert result.returncode == 1
    assert "DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD" in result.stderr


def test_migrate_applies_the_schema_and_exits():
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/db.sqlite"
        first = run(["migrate", "--database", f"sqlite:{db}"], cwd=tmp)
        assert first.returncode == 0, first.stderr
        applied = [json.loads(l) for l in first.stdout.splitlines() if '"migrations checked"' in l]
        assert applied and applied[0]["module"] == "customers" and applied[0]["applied"] == 7
        again = run(["migrate", "--database", f"sqlite:{db}"], cwd=tmp)
        assert again.returncode == 0
        assert '"applied":0' in again.stdout
        with sqlite3.connect(db) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"customers_accounts", "customers_addresses", "customers_refresh_tokens",
                "customers_outbox", "customers_inbox", "customers_outbox_relay", "schema_migrations"} <= tables


def test_version_and_help():
    version = run(["--version"])
    assert version.returncode == 0 and version.stdout.strip()
    help_text = run(["--help"])
    assert help_text.returncode == 0
    for flag in ("--modules", "--listen", "--database", "--bus", "--remote", "--config", "--log-level"):
        assert flag in help_text.stdout


def test_config_file_sets_options(make_server):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "deliveryhub.toml")
        with open(path, "w") as f:
            f.write('modules = "customers"\nshutdown-grace = 2\n')
        srv = make_server(extra_args=["--config", path])
        listening = [line for line in srv.logs if line.get("msg") == "listening"]
        assert listening[0]["modules"] == "customers"


@pytest.mark.parametrize("flags", [["--bus", "kafka://127.0.0.1:9092"], ["--bus", "amqp"],
                                   ["--bus", "amqp://127.0.0.1:5672", "--bus-namespace", "Upper"],
                                   ["--bus", "amqp://127.0.0.1:5672", "--bus-namespace", ""]])
def test_a_bus_other_than_inproc_or_amqp_and_a_bad_namespace_are_refused(flags):
    result = run(["serve", *flags])
    assert result.returncode == 2
    assert "--bus" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_malformed_machine_client_is_an_invalid_setting():
    with tempfile.TemporaryDirectory() as tmp:
        result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{tmp}/db.sqlite",
                      "--client", "svc:short:service"])
    assert result.returncode == 2
    assert "machine client 'svc'" in result.stderr and "short" not in result.stderr.split("'svc'")[1][:3]


def test_config_file_from_the_environment(make_server):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "deliveryhub.toml")
        with open(path, "w") as f:
            f.write('modules = "customers"\n')
        srv = make_server(extra_env={"DELIVERYHUB_CONFIG": path})
        assert [line for line in srv.logs if line.get("msg") == "listening"][0]["modules"] == "customers"


def test_config_file_named_in_the_environment_must_exist():
    result = run(["serve"], env_extra={"DELIVERYHUB_CONFIG": "/nonexistent/deliveryhub.toml"})
    assert result.returncode == 2


def test_migrate_touches_no_signing_key():
    with tempfile.TemporaryDirectory() as tmp:
        result = run(["migrate", "--database", f"sqlite:{tmp}/db.sqlite"], cwd=tmp)
        assert result.returncode == 0, result.stderr
        assert not os.path.exists(os.path.join(tmp, "jwt-signing-key.pem"))


@pytest.mark.parametrize("flags,message", [
    (["--env", "production"], "needs --metrics-listen"),
    (["--env", "production", "--metrics-listen", "127.0.0.1:0", "--external-jwks-url",
      "http://issuer.example/jwks.json", "--issuer", "x", "--audience", "y"], "https:// --external-jwks-url"),
    (["--env", "staging"], "--env"),
    (["--metrics-listen", "nowhere"], "--metrics-listen must be HOST:PORT"),
])
def test_production_refuses_unsafe_settings(flags, message):
    """Issue 11: --env production refuses to start with a public /metrics or a plain-http JWKS."""
    with tempfile.TemporaryDirectory() as tmp:
        result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{tmp}/db.sqlite", *flags])
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_production_refuses_a_generated_signing_key():
    with tempfile.TemporaryDirectory() as tmp:
        result = run(["serve", "--listen", "127.0.0.1:0", "--database", f"sqlite:{tmp}/db.sqlite",
                      "--env", "production", "--metrics-listen", "127.0.0.1:0"])
        assert result.returncode == 2, result.stderr  # an invalid setting
        assert "--env production needs --jwt-key-file" in result.stderr
        assert not os.path.exists(f"{tmp}/jwt-signing-key.pem")


def test_metrics_apart_from_the_api(make_server):
    """With --metrics-listen, /metrics is served there only; production starts with a key file."""
    first = make_server()  # makes a signing key file to hand over
    key = first.signing_key_path()
    srv = make_server(extra_args=["--env", "production", "--metrics-listen", "127.0.0.1:0", "--jwt-key-file", key])
    assert srv.call("GET", "/metrics").status == 404
    assert srv.call("GET", "/readyz").status == 200
    address = [line for line in srv.logs if line.get("msg") == "metrics listening"][0]["address"]
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    body = resp.read().decode()
    assert resp.status == 200 and "deliveryhub_" in body
    conn.request("GET", "/api/v1/orders")
    other = conn.getresponse()
    other.read()
    assert other.status == 404
    # The probes are served there too (the manifests' probes ask that port, ADR 0041).
    for path in ("/livez", "/readyz"):
        conn.request("GET", path)
        probe = conn.getresponse()
        probe.read()
        assert probe.status == 200, path
    conn.close()


UNREACHABLE_DATABASE = "postgresql://dh:secret@127.0.0.1:1/dh"  # port 1: refused at once


def test_an_unreachable_database_is_waited_for_then_exit_1():
    started = time.monotonic()
    result = run(["serve", "--listen", "127.0.0.1:0", "--database", UNREACHABLE_DATABASE, "--database-wait", "3"])
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    waits = [json.loads(line) for line in result.stdout.splitlines() if "waiting for the database" in line]
    assert len(waits) >= 2 and "secret" not in result.stdout + result.stderr, result.stdout
    assert 3 <= elapsed < 15, elapsed
    assert "cannot connect" in result.stderr


def test_database_wait_0_tries_once():
    started = time.monotonic()
    result = run(["serve", "--listen", "127.0.0.1:0", "--database", UNREACHABLE_DATABASE, "--database-wait", "0"])
    assert result.returncode == 1 and time.monotonic() - started < 5, result.stderr
    assert "waiting for the database" not in result.stdout


def test_sigterm_while_waiting_for_the_database_exits_0_and_probes_say_why():
    metrics_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
    proc = subprocess.Popen([binary_path(), "serve", "--listen", "127.0.0.1:0", "--database", UNREACHABLE_DATABASE,
                             "--metrics-listen", f"127.0.0.1:{metrics_port}"],
                            env=env, cwd=tempfile.gettempdir(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 20
        statuses = {}
        while time.monotonic() < deadline and len(statuses) < 2:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=2)
                for path in ("/livez", "/readyz"):
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    statuses[path] = (resp.status, json.loads(resp.read()))
                conn.close()
            except OSError:
                time.sleep(0.1)
        assert statuses["/livez"][0] == 200
        assert statuses["/readyz"][0] == 503 and statuses["/readyz"][1]["state"] == "waiting_for_database"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "stopped before the database answered" in proc.stdout.read()
    finally:
        if proc.poll() is None:  # a failed test's process, not a crash under test
            proc.send_signal(signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("value", ["-1", "3601", "soon"])
def test_database_wait_is_validated(value):
    result = run(["serve", "--database-wait", value])
    assert result.returncode == 2 and "--database-wait" in result.stderr, result.stderr
