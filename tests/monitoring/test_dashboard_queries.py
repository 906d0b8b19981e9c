"""Every query of the Grafana dashboard (k8s/components/monitoring/dashboard.json) returns data
from a real Prometheus scraping the split shape under a little traffic: the series the panels read
exist with the labels the panels group by (scripts/local-prometheus.sh gives the processes the
labels the ServiceMonitor gives pods).

Runs scripts/split.sh (PostgreSQL, RabbitMQ, five processes, nginx) and scripts/local-prometheus.sh
on 127.0.0.1; DELIVERYHUB_BIN names the binary."""
import json
import os
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from plain_http import http, set_up_shop

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DASHBOARD = os.path.join(ROOT, "k8s", "components", "monitoring", "dashboard.json")
OPERATOR = "ops-monitoring@example.com"
# Panels whose query is a ratio of failures: with nothing failing the ratio has no series, which is
# right. For them the query must run and its denominator must return data.
RATIOS = {"5xx ratio, by module"}




def wait_for(predicate, seconds, what):
    end = time.monotonic() + seconds
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def shape():
    binary = os.environ.get("DELIVERYHUB_BIN") or os.path.join(ROOT, "build", "release", "src", "app", "deliveryhub")
    tmp = tempfile.mkdtemp(prefix="dh-monitoring-")
    split_dir, prom_dir = os.path.join(tmp, "split"), os.path.join(tmp, "prometheus")
    password = "Op-" + secrets.token_urlsafe(16)
    with socket.socket() as probe:  # a free gateway port (split.sh's default, 8080, may be taken)
        probe.bind(("127.0.0.1", 0))
        gateway_port = str(probe.getsockname()[1])
    env = dict(os.environ, DELIVERYHUB_BIN=binary, ASAN_OPTIONS="detect_leaks=0", GATEWAY_PORT=gateway_port,
               DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL=OPERATOR, DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD=password)
    try:
        started = subprocess.run(["bash", os.path.join(ROOT, "scripts", "split.sh"), "start", split_dir], env=env,
                                 capture_output=True, text=True, timeout=300)
        assert started.returncode == 0, started.stderr[-3000:]
        gateway = started.stdout.strip().splitlines()[-1]
        prom = subprocess.run(["bash", os.path.join(ROOT, "scripts", "local-prometheus.sh"), "split", prom_dir,
                               split_dir], capture_output=True, text=True, timeout=60)
        assert prom.returncode == 0, prom.stderr[-3000:]
        yield {"gateway": gateway, "prometheus": prom.stdout.strip().splitlines()[-1], "password": password}
    finally:
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "local-prometheus.sh"), "stop", prom_dir],
                       capture_output=True, timeout=60)
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "split.sh"), "stop", split_dir], env=env,
                       capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", tmp])


@pytest.fixture(scope="module")
def traffic(shape):
    """Orders that confirm, one declined, a courier's delivery, some 4xx: every panel's series."""
    api = shape["gateway"]
    shop = set_up_shop(api, OPERATOR, shape["password"], "Monitoring", "4", courier_capacity=50)
    token = shop.token
    orders = []
    for method in ["tok_visa"] * 4 + ["tok_declined"]:
        status, order = http("POST", api + "/api/v1/orders", {"items": [{"sku": shop.sku, "quantity": 1}],
                                                             "address_id": shop.address_id, "payment_method": method},
                             token, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 201, order
        orders.append(order["id"])
    for order_id in orders:
        wait_for(lambda: http("GET", api + f"/api/v1/orders/{order_id}", token=token)[1]["status"]
                 not in ("pending", "payment_authorized"), 30, f"order {order_id} to settle")
    http("GET", api + "/api/v1/orders/ord_nope", token=token)  # a 404
    http("GET", api + "/api/v1/orders", token="not-a-token")  # a 401
    return shape


def dashboard_queries():
    with open(DASHBOARD, encoding="utf-8") as f:
        dashboard = json.load(f)

    def panels(node):
        for panel in node.get("panels", []):
            yield panel
            yield from panels(panel)
    return [(panel.get("title", ""), target["expr"]) for panel in panels(dashboard)
            for target in panel.get("targets", []) if target.get("expr")]


QUERIES = dashboard_queries()


def query(prometheus, expr):
    expr = expr.replace("$namespace", "deliveryhub").replace("$__rate_interval", "30s")
    status, answer = http("GET", prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert status == 200 and answer["status"] == "success", (expr, answer)
    return answer["data"]["result"]


def test_the_dashboard_has_queries():
    assert len(QUERIES) >= 10, QUERIES


@pytest.mark.parametrize("title,expr", QUERIES, ids=[f"{t} #{i}" for i, (t, _) in enumerate(QUERIES)])
def test_every_dashboard_query_returns_data(traffic, title, expr):
    prometheus = traffic["prometheus"]
    if title in RATIOS:
        query(prometheus, expr)  # valid, maybe empty: nothing failed
        denominator = expr.split(" / ", 1)[1]
        wait_for(lambda: query(prometheus, denominator), 30, f"data for the denominator of {title!r}")
        return
    wait_for(lambda: query(prometheus, expr), 30, f"data for {title!r}: {expr}")
