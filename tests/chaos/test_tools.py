"""The chaos experiments' own tools (chaos/README.md): the fault proxy does what it is told, and the
judge's checks fail when they should. The experiments themselves run with chaos/run.sh."""
import contextlib
import http.server
import importlib.util
import pathlib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "chaos"))
import experiments  # noqa: E402

spec = importlib.util.spec_from_file_location("verify", ROOT / "chaos/verify.py")
verify = importlib.util.module_from_spec(spec)
spec.loader.exec_module(verify)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.seen = []
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                upstream.seen.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture()
def proxy():
    upstream = Upstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    listen, control = free_port(), free_port()
    p = subprocess.Popen([sys.executable, str(ROOT / "chaos/faultproxy.py"), "serve", "--listen", str(listen),
                          "--upstream", f"127.0.0.1:{upstream.server_address[1]}", "--control", str(control)],
                         stdout=subprocess.DEVNULL)
    for _ in range(100):
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", control), timeout=1).close()
            break
        time.sleep(0.05)

    def setting(*pairs):
        return subprocess.run([sys.executable, str(ROOT / "chaos/faultproxy.py"), "set", "--control", str(control),
                               *pairs], capture_output=True, text=True)

    def post(body):
        started = time.monotonic()
        req = urllib.request.Request(f"http://127.0.0.1:{listen}/x", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, time.monotonic() - started
        except urllib.error.HTTPError as e:
            return e.code, time.monotonic() - started
        except (urllib.error.URLError, ConnectionError) as e:
            return type(getattr(e, "reason", e)).__name__, time.monotonic() - started

    yield setting, post, upstream
    p.terminate()
    p.wait(5)
    upstream.shutdown()


def test_proxy_passes_through_then_delays_errs_and_drops(proxy):
    setting, post, upstream = proxy
    assert post(b"a")[0] == 200 and upstream.seen == [b"a"]
    assert setting("latency_ms=300").returncode == 0
    status, took = post(b"b")
    assert status == 200 and took >= 0.29
    setting("error_rate=1")
    assert post(b"c")[0] == 503 and b"c" not in upstream.seen  # answered by the proxy, never forwarded
    setting("drop_rate=1")
    status, _ = post(b"d")
    assert status != 200 and isinstance(status, str)  # the connection was reset, no answer
    assert b"d" in upstream.seen                         # …after the upstream got the request
    setting()                                            # no pairs: clean again
    assert post(b"e")[0] == 200


def test_proxy_refuses_unknown_or_out_of_range_settings(proxy):
    setting, post, _ = proxy
    for pairs in (["bogus=1"], ["error_rate=2"], ["drop_rate=-0.1"]):
        r = setting(*pairs)
        assert r.returncode == 1 and "error" in r.stdout
    assert post(b"x")[0] == 200  # the last good setting (none) still holds


def test_alert_expectations_fail_when_they_should():
    want = {"DeliveryhubModuleDown": "pending"}
    assert verify.check_alerts(want, {"DeliveryhubModuleDown": "pending"}) == []
    assert verify.check_alerts(want, {}) == ["DeliveryhubModuleDown: expected pending, was none"]
    assert verify.check_alerts(want, {"DeliveryhubModuleDown": "firing"})  # paged: more than expected
    assert verify.check_alerts({}, {"DeliveryhubHighErrorRatio": "firing"}) == \
        ["DeliveryhubHighErrorRatio: fired, not expected"]
    assert verify.check_alerts({}, {"DeliveryhubHighErrorRatio": "pending"}) == []


def test_windows_and_phases_count_failures_and_percentiles():
    requests = [{"t": 100 + i * 0.1, "ms": 10.0, "ok": True} for i in range(100)]
    requests += [{"t": 103.0, "ms": 900.0, "ok": False}]
    ws = verify.windows(sorted(requests, key=lambda r: r["t"]), 100, 110, 5)
    assert [w["failed"] for w in ws] == [1, 0]
    assert ws[0]["requests"] == 51 and ws[0]["p95"] == 10.0 and ws[0]["p99"] == 900.0
    phase = verify.phase_stats(requests, 100, 110)
    assert phase["failed"] == 1 and phase["max_ms"] == 900.0 and phase["p50_ms"] == 10.0


def test_every_experiment_is_complete():
    names = [e.name for e in experiments.EXPERIMENTS]
    assert len(names) == len(set(names))
    import inject  # noqa: PLC0415 - chaos/inject.py, on the path above
    alerts = (ROOT / "k8s/components/monitoring/alerts.yaml").read_text()
    for e in experiments.EXPERIMENTS:
        assert e.hypothesis and e.fault in inject.FAULTS, e.name
        for alert, state in e.expect_alerts.items():
            assert f"alert: {alert}\n" in alerts and state in ("pending", "firing", "none"), (e.name, alert)
    kills = {e.target for e in experiments.EXPERIMENTS if e.name.startswith("kill-")}
    modules = subprocess.run(["python3", "-c", "import json; print(' '.join(m['name'] for m in "
                              "json.load(open('docs/modules.json'))['modules']))"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    assert kills == set(modules)  # kill -9 each module in turn


def test_judge_finds_failures_outside_the_blast_radius_and_a_slow_recovery():
    e = experiments.Experiment(name="t", hypothesis="h", fault="kill", affected=(experiments.PLACE,),
                               recover_within_s=10)
    t0 = 1000.0
    marks = [{"t": t0 + 45, "mark": "fault_start", "action": "x"}, {"t": t0 + 50, "mark": "fault_end"}]

    def run(failing_route, last_failure_at):
        requests = [{"t": t0 + i / 10, "ms": 5.0, "ok": True, "route": "GET /api/v1/orders/{id}"} for i in range(1200)]
        requests += [{"t": t0 + 46, "ms": 5.0, "ok": False, "route": failing_route},
                     {"t": t0 + last_failure_at, "ms": 5.0, "ok": False, "route": experiments.PLACE}]
        requests.sort(key=lambda r: r["t"])
        return verify.judge_requests(e, t0, requests, [], marks, t0 + 120)

    fields, problems = run(experiments.PLACE, 52)
    assert problems == [] and fields["failing_routes"] == [experiments.PLACE] and fields["recovery_s"] == 5.0
    _, problems = run("GET /api/v1/orders/{id}", 52)
    assert problems == ["failed outside the expected blast radius: GET /api/v1/orders/{id} (1 of 151)"]
    fields, problems = run(experiments.PLACE, 75)  # a failure 25 s after the fault's end
    assert fields["recovery_s"] == 30.0 and problems == ["back to steady state 30.0 s after the fault, over 10 s"]
    fields, problems = run(experiments.PLACE, 118)
    assert fields["recovery_s"] is None and problems == ["not back to steady state before the load ended"]
