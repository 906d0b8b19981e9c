"""One order's story, from deliveryhub's own log lines to the runbook's LogQL, through the log
collector's configuration as the cluster gets it (the rendered ConfigMap of
k8s/components/logging, never a copy).

A real deliveryhub (DELIVERYHUB_BIN, else build/release) serves on 127.0.0.1 with SQLite in a
temporary folder; an order is placed under a known trace id. Its stdout lines are written as a
container runtime writes them (CRI format, one long line split into parts) into a fake node's
/var/log/pods, beside a pod of another namespace and a non-JSON container. Fluent Bit and Loki
are not installable here (Debian packages neither), so log_pipeline.py's model of them, which
reads every setting of the configuration and refuses the ones it does not know, carries the
lines to a model Loki, and the runbook's queries (its ```logql blocks and the curl's query) run
there (ADR 0035). Bounded: 60 s at most; the server is stopped whatever happens."""
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

import plain_http

sys.path.insert(0, str(Path(__file__).resolve().parent))
import log_pipeline  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "runbook.md"
OPERATOR = "ops-logging@example.com"
LIMIT_S = 60
_deadline: list[float] = []  # set when the first step that can wait begins
LABELS = {"namespace", "container", "service", "level"}


def left() -> float:
    if not _deadline:
        _deadline.append(time.monotonic() + LIMIT_S)
    remaining = _deadline[0] - time.monotonic()
    if remaining <= 0:
        raise AssertionError("the log pipeline test ran past its 60 s")
    return remaining


def http(method, url, body=None, token=None, form=False, headers=None):
    return plain_http.http(method, url, body, token, form, headers, timeout=min(10, left()))


def rendered_config() -> dict:
    """fluent-bit.yaml as the ConfigMap that the DaemonSet mounts holds it, from the render of
    tests/k8s/render.sh (the pinned kustomize)."""
    out = subprocess.run([str(ROOT / "tests/k8s/render.sh"), "split", "logging"], capture_output=True, text=True,
                         timeout=left())
    assert out.returncode == 0, out.stderr[-2000:]
    objects = [o for o in yaml.safe_load_all(out.stdout) if o]
    ds = next(o for o in objects if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "fluent-bit")
    name = next(v["configMap"]["name"] for v in ds["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
    cm = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name
              and o["metadata"]["namespace"] == ds["metadata"]["namespace"])
    return yaml.safe_load(cm["data"]["fluent-bit.yaml"])


def runbook_queries() -> dict[str, str]:
    """The runbook's LogQL: its ```logql blocks, and the query its curl sends (placeholder -> query)."""
    text = RUNBOOK.read_text(encoding="utf-8")
    blocks = [b.strip() for b in re.findall(r"^```logql[ \t]*\n(.*?)^```", text, re.S | re.M)]
    curls = re.findall(r"--data-urlencode '(?:query=)(\{namespace=[^']*)'", text)
    assert blocks and curls, "the runbook has no ```logql block or no curl with a query"
    for curl in curls:
        assert curl in blocks, f"the curl's query {curl!r} is none of the runbook's ```logql blocks"
    return {p: q for q in blocks for p in ("ORDER_ID", "TRACE_ID") if p in q}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Runs deliveryhub, places an order under a known trace id, stops it: (stdout lines, trace
    id, order id)."""
    binary = os.path.abspath(os.environ.get("DELIVERYHUB_BIN") or ROOT / "build" / "release" / "src" / "app" /
                             "deliveryhub")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"no deliveryhub binary at {binary} (build it, or set DELIVERYHUB_BIN)")
    tmp = tmp_path_factory.mktemp("log-pipeline")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = "Op-" + secrets.token_urlsafe(16)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=OPERATOR,
               DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=password)
    stdout = open(tmp / "stdout.log", "wb")
    server = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--database",
                               f"sqlite:{tmp / 'db.sqlite'}"], stdout=stdout, stderr=subprocess.STDOUT, env=env,
                              cwd=tmp)
    api = f"http://127.0.0.1:{port}"
    trace_id, other_trace = secrets.token_hex(16), secrets.token_hex(16)
    try:
        while not (_up(port) and http("GET", api + "/readyz")[0] == 200):
            assert server.poll() is None, (tmp / "stdout.log").read_text()[-2000:]
            left()
            time.sleep(0.1)
        order_id = place_order(api, password, trace_id)
        http("GET", api + "/api/v1/orders/ord_nope", headers={"traceparent": f"00-{other_trace}-{'1' * 16}-01"})
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=min(15, max(1, left())))
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        stdout.close()
    lines = (tmp / "stdout.log").read_text(encoding="utf-8").splitlines()
    return lines, trace_id, other_trace, order_id


def _up(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def place_order(api: str, password: str, trace_id: str) -> str:
    """Zone, product, courier, customer and address set up; then one order placed under
    `trace_id` (the traceparent header), waited for until its saga has settled."""
    shop = plain_http.set_up_shop(api, OPERATOR, password, "Logs", "5", courier_capacity=5,
                                 timeout=min(10, left()))
    token = shop.token
    status, order = http("POST", api + "/api/v1/orders", {"items": [{"sku": shop.sku, "quantity": 1}],
                                                         "address_id": shop.address_id, "payment_method": "tok_visa"},
                         token, headers={"Idempotency-Key": str(uuid.uuid4()),
                                         "traceparent": f"00-{trace_id}-{'2' * 16}-01"})
    assert status == 201, order
    while http("GET", api + f"/api/v1/orders/{order['id']}", token=token)[1]["status"] in (
            "pending", "payment_authorized"):
        left()
        time.sleep(0.2)
    return order["id"]


@pytest.fixture(scope="module")
def loki(story, tmp_path_factory):
    """The fake node's log files, the collector model run on them with the rendered
    configuration, and a model Loki holding what it pushed: (loki, pushed entries, collector)."""
    lines, trace_id, _, _ = story
    node = tmp_path_factory.mktemp("node")
    pods = node / "var" / "log" / "pods"
    start = time.time_ns()

    def write(folder: str, container: str, text: list[str]) -> None:
        (pods / folder / container).mkdir(parents=True)
        (pods / folder / container / "0.log").write_text("\n".join(text) + "\n", encoding="utf-8")

    # The single shape's pod; its container writes the JSON lines to stdout.
    write(f"deliveryhub_deliveryhub-5d9c7b8f4-x2x7q_{uuid.uuid4()}", "deliveryhub",
          log_pipeline.cri_lines(lines, "stdout", start))
    # A store of the same namespace: not JSON.
    write(f"deliveryhub_postgres-0_{uuid.uuid4()}", "postgres",
          log_pipeline.cri_lines(["LOG:  database system is ready to accept connections"], "stderr", start,
                                 split_longest=False))
    # Another namespace, with the same trace id: never read.
    write(f"deliveryhub-staging_orders-7f6d5c4b3-abcde_{uuid.uuid4()}", "deliveryhub",
          log_pipeline.cri_lines([json.dumps({"ts": "x", "level": "info", "service": "orders", "msg": "staging",
                                              "trace_id": trace_id})], "stdout", start, split_longest=False))
    collector = log_pipeline.FluentBit(rendered_config(), node)
    pushed = collector.push()
    store = log_pipeline.Loki()
    store.push(pushed)
    return store, pushed, collector


def test_the_server_logged_the_orders_story_under_its_trace_id(story):
    lines, trace_id, _, order_id = story
    records = [json.loads(line) for line in lines]
    assert all({"ts", "level", "service", "msg"} <= set(r) for r in records), lines[:3]
    mine = [r for r in records if r.get("trace_id") == trace_id]
    assert any(r["msg"] == "order placed" and r.get("order_id") == order_id for r in mine), mine
    assert len(mine) >= 3, mine


def test_every_line_reaches_loki_with_low_cardinality_labels_only(story, loki):
    lines = story[0]
    store, pushed, collector = loki
    assert collector.collisions == [], "fields of the lines shadow the collector's own"
    app = [(labels, line) for labels, _, line in pushed if labels.get("container") == "deliveryhub"]
    assert len(app) == len(lines), "a line was lost or duplicated (the split one, joined again?)"
    for labels, line in app:
        assert set(labels) == LABELS, labels
        assert labels["namespace"] == "deliveryhub" and labels["service"] == "deliveryhub", labels
        assert not {"trace_id", "request_id", "pod"} & set(labels)
        record = json.loads(line)
        assert "service" not in record and "level" not in record, "a label's field stays in the line"
        assert record["pod"] == "deliveryhub-5d9c7b8f4-x2x7q" and record["stream"] == "stdout", record
    assert len(store.streams) <= 6, f"{len(store.streams)} streams for one pod: a label is not low-cardinality"
    others = [(labels, line) for labels, _, line in pushed if labels.get("container") != "deliveryhub"]
    assert [(labels, json.loads(line)["log"]) for labels, line in others] == [
        ({"namespace": "deliveryhub", "container": "postgres"},
         "LOG:  database system is ready to accept connections")]


def test_the_runbooks_queries_tell_the_orders_whole_story(story, loki):
    lines, trace_id, other_trace, order_id = story
    store = loki[0]
    queries = runbook_queries()
    assert set(queries) == {"ORDER_ID", "TRACE_ID"}, queries
    placed = store.query(queries["ORDER_ID"].replace("ORDER_ID", order_id))
    assert [r["stream"]["trace_id"] for r in placed] == [trace_id], placed
    found = store.query(queries["TRACE_ID"].replace("TRACE_ID", trace_id))
    expected = [json.loads(line) for line in lines if json.loads(line).get("trace_id") == trace_id]
    got = [r["stream"] for r in found]
    assert [(g["msg"], g["ts"]) for g in got] == [(e["msg"], e["ts"]) for e in expected]
    assert all(g["service"] == "deliveryhub" and g["namespace"] == "deliveryhub" for g in got), got
    assert store.query(queries["TRACE_ID"].replace("TRACE_ID", other_trace)), "the other request's line"
    assert not store.query(queries["TRACE_ID"].replace("TRACE_ID", secrets.token_hex(16)))


def test_the_model_refuses_what_it_does_not_know(tmp_path):
    config = rendered_config()
    config["pipeline"]["filters"].append({"name": "lua", "match": "*", "script": "x.lua", "call": "f"})
    with pytest.raises(log_pipeline.Unsupported, match="plugin lua"):
        log_pipeline.FluentBit(config, tmp_path)
    config = rendered_config()
    config["pipeline"]["outputs"][0]["drop_single_key"] = "raw"
    with pytest.raises(log_pipeline.Unsupported, match="drop_single_key"):
        log_pipeline.FluentBit(config, tmp_path)
    with pytest.raises(log_pipeline.Unsupported):
        log_pipeline.Loki().query('{namespace="deliveryhub"} | logfmt')
