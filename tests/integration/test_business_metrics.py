"""Business metrics at /metrics: orders, sagas, payments, deliveries, incidents, outbox lag."""
import re

import pytest

from conftest import assert_json, wait_for
from test_orders import confirmed_order, courier_reports, shop  # noqa: F401  (shop is a fixture)


def samples(server):
    """{(name, frozenset(labels)): value} of the Prometheus text at /metrics, summed over the
    processes behind the server (one, or the split shape's five), as Prometheus' sum() would."""
    out = {}
    for process in server.processes():
        resp = process.call("GET", "/metrics")
        assert resp.status == 200
        for line in resp.body.splitlines():
            if not line or line.startswith("#"):
                continue
            match = re.fullmatch(r'([a-z_]+)(?:\{(.*)\})? (\S+)', line)
            assert match, line
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            key = (match.group(1), labels)
            out[key] = out.get(key, 0.0) + float(match.group(3))
    return out


def value(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.bus
@pytest.mark.remote
def test_orders_sagas_payments_deliveries_and_incidents_are_counted(server, shop):
    before = samples(server)
    customer, order = confirmed_order(server, shop)
    courier_reports(server, shop, order["delivery_id"], "failed", "nobody home")

    def settled():
        m = samples(server)
        return m if value(m, "deliveryhub_incidents", status="open") >= 1 and \
            value(m, "deliveryhub_orders", status="delivery_failed") >= 1 and \
            value(m, "deliveryhub_payment_operations_total", operation="void", outcome="approved") >= 1 else None
    after = wait_for(settled, 15, "the failed delivery to show in the metrics")
    assert value(after, "deliveryhub_saga_outcomes_total", outcome="confirmed") == \
        value(before, "deliveryhub_saga_outcomes_total", outcome="confirmed") + 1
    assert value(after, "deliveryhub_saga_duration_seconds_count", outcome="confirmed") >= 1
    assert value(after, "deliveryhub_deliveries", status="failed") >= 1
    assert value(after, "deliveryhub_payment_operations_total", operation="authorize", outcome="approved") >= 1
    assert value(after, "deliveryhub_payment_operations_total", operation="void", outcome="approved") >= 1
    for status in ("pending", "confirmed", "cancelled", "rejected"):  # every status is exported, 0 or not
        assert ("deliveryhub_orders", frozenset({("status", status)})) in after
    for module in ("customers", "payments", "delivery", "orders", "incidents"):
        assert ("deliveryhub_outbox_backlog", frozenset({("module", module)})) in after
        assert ("deliveryhub_outbox_oldest_age_seconds", frozenset({("module", module)})) in after
    # The relay keeps up: nothing waits for long.
    wait_for(lambda: all(value(samples(server), "deliveryhub_outbox_backlog", module=m) == 0
                         for m in ("payments", "delivery", "orders", "incidents")), 15, "an empty outbox backlog")
    assert_json(server.call("GET", f"/api/v1/orders/{order['id']}", token=customer.token), 200)
