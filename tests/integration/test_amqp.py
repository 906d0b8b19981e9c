"""The RabbitMQ transport (--bus amqp://…) against a real broker: poison messages and events that
keep failing end in the module's dead-letter queue without stalling it, and events wait in the
outbox while the broker is down, to be delivered when it returns. Runs only when the suite has a
broker (DELIVERYHUB_TEST_AMQP, tests/support/with-rabbitmq.sh)."""
import datetime
import json
import os
import secrets
import subprocess
import time

import pytest

from conftest import AMQP_URL, assert_json, on_amqp, wait_for
from test_business_metrics import samples, value
from test_cancellation import payment_becomes
from test_invariants import consistent
from test_orders import confirmed_order, courier_reports, customer_with_address, order_status_becomes, place
from test_orders import shop  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.skipif(not on_amqp(), reason="needs a RabbitMQ (tests/support/with-rabbitmq.sh)"),
              pytest.mark.broker]
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def broker():
    import pika  # Debian: python3-pika; only for these tests
    return pika.BlockingConnection(pika.URLParameters(AMQP_URL + "/%2F"))


def publish(server, routing_key, body):
    """Puts a message on the server's exchange as another publisher would."""
    import pika
    with broker() as connection:
        channel = connection.channel()
        channel.basic_publish(exchange=f"{server.bus_namespace}.events", routing_key=routing_key, body=body,
                              properties=pika.BasicProperties(delivery_mode=2, content_type="application/json"))


def dead_letters(server, module):
    """The messages in `module`'s DLQ, left in place (nack + requeue)."""
    with broker() as connection:
        channel = connection.channel()
        found = []
        for _ in range(100):
            method, properties, body = channel.basic_get(f"{server.bus_namespace}.{module}.dlq", auto_ack=False)
            if method is None:
                break
            found.append((properties.headers or {}, body))
        channel.close()  # unacked: back in the queue
        return found


def event(event_type, aggregate_id, payload):
    return json.dumps({
        "id": "evt_0" + "".join(secrets.choice(CROCKFORD) for _ in range(25)),  # a ULID starts 0-7
        "type": event_type, "source": "delivery", "aggregate_id": aggregate_id, "sequence": 99,
        "occurred_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "traceparent": "", "payload": payload}).encode()


def test_a_message_that_is_not_an_event_goes_to_the_dlq_at_once_and_the_queue_goes_on(server, shop):
    publish(server, "delivery.completed", b"not json at all")
    publish(server, "delivery.completed", b'{"id": "evt_nope", "type": "delivery.completed"}')
    # The queues keep flowing: a whole delivery after the poison is applied.
    customer, order = confirmed_order(server, shop)
    courier_reports(server, shop, order["delivery_id"], "picked_up")
    courier_reports(server, shop, order["delivery_id"], "delivered")
    payment_becomes(server, customer, order["payment_id"], "captured")
    order_status_becomes(server, customer, order["id"], "delivered")

    letters = wait_for(lambda: (lambda d: d if len(d) == 2 else None)(dead_letters(server, "payments")), 15,
                       "both poison messages in payments' DLQ")
    assert sorted(body for _, body in letters) == sorted([b"not json at all",
                                                          b'{"id": "evt_nope", "type": "delivery.completed"}'])
    for headers, _ in letters:
        assert headers["x-deliveryhub-attempts"] == 1  # no retry for what can never be an event
        assert "not an event" in headers["x-deliveryhub-error"]
    # Every consumer of delivery.completed dead-lettered its own copy; the metrics say so.
    wait_for(lambda: value(samples(server), "deliveryhub_events_dead_letter_queue_depth", module="payments") == 2,
             15, "the DLQ depth gauge to read 2")
    metrics = samples(server)
    for module in ("payments", "orders"):
        assert value(metrics, "deliveryhub_events_consumed_total", module=module, outcome="dead_lettered") == 2
        assert value(metrics, "deliveryhub_events_consumed_total", module=module, outcome="applied") >= 1


def test_an_event_that_keeps_failing_is_retried_then_dead_lettered(make_server):
    server = make_server(extra_args=["--bus-max-attempts", "2"])
    from test_invariants import setup_shop
    shop = setup_shop(server)
    customer, address_id = customer_with_address(server)
    # tok_slow holds the saga in `authorize` for 2 s: a pick-up reported meanwhile cannot apply yet.
    order = assert_json(place(server, customer, address_id, shop["sku"], payment_method="tok_slow"), 201)
    publish(server, "delivery.picked_up", event("delivery.picked_up", order["id"],
                                                {"delivery_id": "dlv_" + "0" * 26, "order_id": order["id"],
                                                 "status": "picked_up"}))
    letters = wait_for(lambda: (lambda d: d if d else None)(dead_letters(server, "orders")), 15,
                       "the pick-up in orders' DLQ after its two attempts")
    assert len(letters) == 1
    headers, body = letters[0]
    assert headers["x-deliveryhub-attempts"] == 2
    assert "has not recorded its delivery yet" in headers["x-deliveryhub-error"]
    assert json.loads(body)["aggregate_id"] == order["id"]
    logged = [line for line in server.log_records() if line.get("event_type") == "delivery.picked_up"
              and line.get("module") == "orders"]
    assert [line["msg"] for line in logged] == ["event handling failed; will retry", "event dead-lettered"]
    # The order itself is untouched by the bad event and its saga finishes normally.
    order_status_becomes(server, customer, order["id"], "confirmed")


def rabbitmq(command):
    folder = os.environ["DELIVERYHUB_TEST_RABBITMQ_DIR"]
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "local-rabbitmq.sh"), command, folder],
                          env={**os.environ, "KEEP": "1"}, capture_output=True, text=True, timeout=120)


@pytest.mark.remote
def test_events_wait_in_the_outbox_while_the_broker_is_down_and_flow_when_it_returns(server, shop):
    customer, before = confirmed_order(server, shop)
    assert rabbitmq("stop").returncode == 0
    try:
        outage_started = time.monotonic()
        # Orders are still taken and confirmed (the saga calls payments and delivery directly) …
        during = [confirmed_order(server, shop) for _ in range(3)]
        courier_reports(server, shop, before["delivery_id"], "picked_up")
        courier_reports(server, shop, before["delivery_id"], "delivered")
        # … but what travels as events waits in the outboxes.
        wait_for(lambda: sum(v for (name, _), v in samples(server).items()
                             if name == "deliveryhub_outbox_backlog") > 0, 10, "a backlog in the outboxes")
        assert assert_json(server.call("GET", f"/api/v1/orders/{before['id']}", token=customer.token),
                           200)["status"] == "confirmed"
        time.sleep(max(0.0, 30 - (time.monotonic() - outage_started)))  # a 30 s outage, as in the issue
    finally:
        started = rabbitmq("start")
        assert started.returncode == 0, started.stderr
    # Everything arrives once the broker is back (within the reconnection pauses, ≤ 5 s each):
    # the delivery moves the order and the payment.
    wait_for(lambda: assert_json(server.call("GET", f"/api/v1/orders/{before['id']}", token=customer.token),
                                 200)["status"] == "delivered", 45, "the order to become delivered")
    payment_becomes(server, customer, before["payment_id"], "captured")
    for buyer, order in during:
        assert assert_json(server.call("GET", f"/api/v1/orders/{order['id']}", token=buyer.token),
                           200)["status"] == "confirmed"
    wait_for(lambda: sum(v for (name, _), v in samples(server).items()
                         if name == "deliveryhub_outbox_backlog") == 0, 30, "the outboxes to drain")
    consistent(server)
