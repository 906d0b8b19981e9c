"""Incidents over HTTP in one process: opened by customers, operators and the system; worked,
resolved with a refund or a redelivery, or rejected; and every way to get them wrong."""
import uuid

import pytest

from conftest import assert_field_error, assert_json, assert_problem, wait_for
from test_cancellation import delivery_becomes, payment_becomes
from test_orders import (assert_unprocessable, confirmed_order, courier_reports, customer_with_address, order_status_becomes, place,
                         settled, shop)  # noqa: F401  (shop is a fixture)


def open_incident(server, token, order_id, type_="damaged", description="The box was crushed"):
    return server.call("POST", "/api/v1/incidents", {"order_id": order_id, "type": type_,
                                                      "description": description}, token=token)


def delivered_order(server, shop):
    customer, order = confirmed_order(server, shop)
    courier_reports(server, shop, order["delivery_id"], "picked_up")
    courier_reports(server, shop, order["delivery_id"], "delivered")
    order_status_becomes(server, customer, order["id"], "delivered")
    payment_becomes(server, customer, order["payment_id"], "captured")
    return customer, order


def incident_of(server, token, order_id, type_):
    def found():
        page = assert_json(server.call("GET", f"/api/v1/incidents?order_id={order_id}", token=token), 200)
        matching = [i for i in page["data"] if i["type"] == type_]
        return matching[0] if matching else None
    return wait_for(found, 15, f"a {type_} incident for {order_id}")


@pytest.mark.bus
@pytest.mark.remote
def test_damaged_goods_are_refunded_through_an_incident(server, shop):
    customer, order = delivered_order(server, shop)
    resp = open_incident(server, customer.token, order["id"])
    incident = assert_json(resp, 201)
    assert resp.headers["location"] == f"/api/v1/incidents/{incident['id']}"
    assert incident["status"] == "open" and incident["opened_by"] == "customer"
    assert incident["customer_id"] == customer.id and incident["resolution"] is None
    path = f"/api/v1/incidents/{incident['id']}"
    comment = assert_json(server.call("POST", path + "/comments", {"body": "Photo attached"},
                                      token=customer.token), 201)
    assert comment["author_role"] == "customer" and comment["body"] == "Photo attached"
    operator = server.operator_token()
    assert_json(server.call("POST", path + "/comments", {"body": "Checking with the courier"}, token=operator), 201)
    worked = assert_json(server.call("GET", path, token=customer.token), 200)
    assert worked["status"] == "in_progress" and len(worked["comments"]) == 2

    resolved = assert_json(server.call("POST", path + "/resolve", {"resolution": "refund", "amount": 1250},
                                       token=operator), 200)
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == {"type": "refund", "amount": 1250}
    payment = payment_becomes(server, customer, order["payment_id"], "partially_refunded")
    assert payment["refunded_amount"] == 1250
    assert payment["operations"][-1]["type"] == "refund"
    recorded = wait_for(lambda: (lambda o: o if o["refunded_amount"] == 1250 else None)(
        assert_json(server.call("GET", f"/api/v1/orders/{order['id']}", token=customer.token), 200)),
        15, "orders to record the refund")
    assert recorded["status"] == "delivered"
    # Settled: nothing more happens to it.
    again = assert_problem(server.call("POST", path + "/resolve", {"resolution": "refund", "amount": 1},
                                       token=operator), 409, "conflict")
    assert again["current_status"] == "resolved"
    assert_problem(server.call("POST", path + "/comments", {"body": "one more"}, token=customer.token), 409)
    assert_problem(server.call("POST", path + "/reject", {"reason": "no"}, token=operator), 409)
    assert payment_becomes(server, customer, order["payment_id"], "partially_refunded")["refunded_amount"] == 1250


@pytest.mark.remote
def test_a_refund_above_what_was_captured_is_refused_and_changes_nothing(server, shop):
    customer, order = delivered_order(server, shop)
    incident = assert_json(open_incident(server, customer.token, order["id"]), 201)
    path = f"/api/v1/incidents/{incident['id']}/resolve"
    body = assert_problem(server.call("POST", path, {"resolution": "refund", "amount": order["total"] + 1},
                                      token=server.operator_token()), 422, "unprocessable")
    assert body["refundable_amount"] == order["total"]
    assert assert_json(server.call("GET", f"/api/v1/incidents/{incident['id']}", token=customer.token),
                       200)["status"] == "open"
    assert payment_becomes(server, customer, order["payment_id"], "captured")["refunded_amount"] == 0


@pytest.mark.remote
def test_nothing_captured_means_no_refund(server, shop):
    customer, order = confirmed_order(server, shop)
    incident = assert_json(open_incident(server, customer.token, order["id"], "other", "Where is it?"), 201)
    body = assert_problem(server.call("POST", f"/api/v1/incidents/{incident['id']}/resolve",
                                      {"resolution": "refund", "amount": 100}, token=server.operator_token()),
                          409, "conflict")
    assert body["refundable_amount"] == 0


@pytest.mark.bus
@pytest.mark.remote
def test_a_failed_delivery_opens_an_incident_and_a_redelivery_completes_the_order(server, shop):
    customer, order = confirmed_order(server, shop)
    courier_reports(server, shop, order["delivery_id"], "failed", "nobody home")
    order_status_becomes(server, customer, order["id"], "delivery_failed")
    payment_becomes(server, customer, order["payment_id"], "voided")
    incident = incident_of(server, customer.token, order["id"], "not_delivered")
    assert incident["opened_by"] == "system" and "nobody home" in incident["description"]
    operator = server.operator_token()
    resolved = assert_json(server.call("POST", f"/api/v1/incidents/{incident['id']}/resolve",
                                       {"resolution": "redeliver"}, token=operator), 200)
    assert resolved["resolution"] == {"type": "redeliver"}
    again = wait_for(lambda: (lambda o: o if o["status"] == "confirmed" and o["delivery_id"] != order["delivery_id"]
                              else None)(
        assert_json(server.call("GET", f"/api/v1/orders/{order['id']}", token=customer.token), 200)),
        15, "the redelivery to confirm the order again")
    payment_becomes(server, customer, order["payment_id"], "authorized")  # authorized again
    delivery_becomes(server, customer, again["delivery_id"], "assigned")
    courier_reports(server, shop, again["delivery_id"], "picked_up")
    courier_reports(server, shop, again["delivery_id"], "delivered")
    order_status_becomes(server, customer, order["id"], "delivered")
    payment = payment_becomes(server, customer, order["payment_id"], "captured")
    assert payment["captured_amount"] == order["total"]
    assert [op["type"] for op in payment["operations"]] == ["authorize", "void", "authorize", "capture"]
    # One failure, one incident: a second failure would open a second one, not this repeat.
    page = assert_json(server.call("GET", f"/api/v1/incidents?order_id={order['id']}", token=operator), 200)
    assert [i["type"] for i in page["data"]] == ["not_delivered"]


@pytest.mark.remote
def test_a_redelivery_while_a_delivery_is_under_way_is_a_conflict(server, shop):
    customer, order = confirmed_order(server, shop)
    incident = assert_json(open_incident(server, customer.token, order["id"], "late", "Still waiting"), 201)
    body = assert_problem(server.call("POST", f"/api/v1/incidents/{incident['id']}/resolve",
                                      {"resolution": "redeliver"}, token=server.operator_token()), 409, "conflict")
    assert body["current_status"] == "open"


def test_rejecting_an_incident(server, shop):
    customer, order = delivered_order(server, shop)
    incident = assert_json(open_incident(server, customer.token, order["id"], "missing_item", "No drink"), 201)
    rejected = assert_json(server.call("POST", f"/api/v1/incidents/{incident['id']}/reject",
                                       {"reason": "The drink was in the bag"}, token=server.operator_token()), 200)
    assert rejected["status"] == "rejected" and rejected["rejection_reason"] == "The drink was in the bag"
    assert payment_becomes(server, customer, order["payment_id"], "captured")["refunded_amount"] == 0


@pytest.mark.remote
def test_incidents_of_others_are_not_found(server, shop):
    alice, order = confirmed_order(server, shop)
    incident = assert_json(open_incident(server, alice.token, order["id"]), 201)
    bob = server.register_customer()
    path = f"/api/v1/incidents/{incident['id']}"
    assert_problem(server.call("GET", path, token=bob.token), 404, "not-found")
    assert_problem(server.call("POST", path + "/comments", {"body": "mine now"}, token=bob.token), 404)
    assert_unprocessable(open_incident(server, bob.token, order["id"]), "order_id")  # not his order
    assert_unprocessable(open_incident(server, bob.token, "ord_01HZZZZZZZZZZZZZZZZZZZZZZZ"), "order_id")
    assert assert_json(server.call("GET", "/api/v1/incidents", token=bob.token), 200)["data"] == []
    theirs = assert_json(server.call("GET", f"/api/v1/incidents?customer_id={alice.id}", token=bob.token), 200)
    assert theirs["data"] == []
    mine = assert_json(server.call("GET", path, token=alice.token), 200)
    assert mine["comments"] == []
    # Couriers have no business with incidents; customers do not settle them.
    assert_problem(server.call("GET", path, token=shop["courier_token"]), 403)
    assert_problem(server.call("POST", path + "/resolve", {"resolution": "none"}, token=alice.token), 403)
    assert_problem(server.call("POST", path + "/reject", {"reason": "x"}, token=alice.token), 403)
    assert_problem(server.call("GET", path), 401)
    assert assert_json(server.call("GET", path, token=alice.token), 200)["status"] == "open"


@pytest.mark.parametrize("body, field", [
    ({"type": "damaged", "description": "x"}, "order_id"),
    ({"order_id": "ord_x", "type": "broken", "description": "x"}, "type"),
    ({"order_id": "ord_x", "type": "damaged"}, "description"),
    ({"order_id": "ord_x", "type": "damaged", "description": ""}, "description"),
    ({"order_id": "ord_x", "type": "damaged", "description": "x" * 2001}, "description"),
    ({"order_id": "ord_x", "type": "damaged", "description": "x", "status": "resolved"}, "status"),
    ({"order_id": "ord_x", "type": "damaged", "description": "x", "customer_id": "cus_x"}, "customer_id"),
])
def test_malformed_incidents_are_refused(server, shop, body, field):
    customer = server.register_customer()
    before = assert_json(server.call("GET", "/api/v1/incidents", token=server.operator_token()), 200)["data"]
    assert_field_error(server.call("POST", "/api/v1/incidents", body, token=customer.token), field)
    after = assert_json(server.call("GET", "/api/v1/incidents", token=server.operator_token()), 200)["data"]
    assert [i["id"] for i in after] == [i["id"] for i in before]


@pytest.mark.parametrize("body, field", [
    ({}, "resolution"),
    ({"resolution": "compensate"}, "resolution"),
    ({"resolution": "refund"}, "amount"),
    ({"resolution": "refund", "amount": 0}, "amount"),
    ({"resolution": "refund", "amount": "12"}, "amount"),
    ({"resolution": "none", "amount": 5}, "amount"),
    ({"resolution": "none", "status": "rejected"}, "status"),
])
def test_malformed_resolutions_change_nothing(server, shop, body, field):
    customer, order = delivered_order(server, shop)
    incident = assert_json(open_incident(server, customer.token, order["id"]), 201)
    assert_field_error(server.call("POST", f"/api/v1/incidents/{incident['id']}/resolve", body,
                                   token=server.operator_token()), field)
    assert assert_json(server.call("GET", f"/api/v1/incidents/{incident['id']}", token=customer.token),
                       200)["status"] == "open"


def test_unknown_incidents_and_filters(server, shop):
    operator = server.operator_token()
    assert_problem(server.call("GET", "/api/v1/incidents/inc_01HZZZZZZZZZZZZZZZZZZZZZZZ", token=operator), 404)
    assert_problem(server.call("POST", "/api/v1/incidents/nope/resolve", {"resolution": "none"}, token=operator),
                   404)
    assert_field_error(server.call("GET", "/api/v1/incidents?status=closed", token=operator), "status")
    assert_problem(server.call("GET", "/api/v1/incidents?limit=0", token=operator), 400)


@pytest.mark.bus
@pytest.mark.remote
def test_a_delivery_past_its_promise_opens_one_late_incident(make_server):
    server = make_server(extra_args=["--delivery-promise", "1", "--late-check-interval", "1"])
    token = server.operator_token()
    zone = assert_json(server.call("POST", "/api/v1/zones", {"name": "Madrid", "postal_prefixes": ["28"]},
                                   token=token), 201)
    sku = "LATE-" + uuid.uuid4().hex[:6].upper()
    assert_json(server.call("POST", "/api/v1/catalog/products",
                            {"sku": sku, "name": "Soup", "price": 800, "currency": "EUR"}, token=token), 201)
    email = f"slow-{uuid.uuid4().hex[:8]}@example.com"
    assert_json(server.call("POST", "/api/v1/couriers", {"name": "Slow", "email": email,
                                                         "password": "courier password", "zone_id": zone["id"],
                                                         "capacity": 5}, token=token), 201)
    customer, address_id = customer_with_address(server)
    order = assert_json(place(server, customer, address_id, sku), 201)
    assert settled(server, customer, order["id"])["status"] == "confirmed"
    late = incident_of(server, customer.token, order["id"], "late")
    assert late["opened_by"] == "system" and late["status"] == "open"
    # Later checks open no second one.
    wait_for(lambda: sum(1 for r in server.log_records() if r.get("msg") == "late-incident check failed") == 0,
             3, "checks to keep running")
    import time
    time.sleep(2.5)
    page = assert_json(server.call("GET", f"/api/v1/incidents?order_id={order['id']}", token=token), 200)
    assert [i["type"] for i in page["data"]] == ["late"]


@pytest.mark.parametrize("action, body, field", [
    ("comments", {}, "body"),
    ("comments", {"body": ""}, "body"),
    ("comments", {"body": "x" * 2001}, "body"),
    ("comments", {"body": "hi", "author_role": "operator"}, "author_role"),
    ("reject", {}, "reason"),
    ("reject", {"reason": 5}, "reason"),
])
def test_malformed_comments_and_rejections_change_nothing(server, shop, action, body, field):
    customer, order = confirmed_order(server, shop)
    incident = assert_json(open_incident(server, customer.token, order["id"]), 201)
    token = server.operator_token()
    assert_field_error(server.call("POST", f"/api/v1/incidents/{incident['id']}/{action}", body, token=token), field)
    after = assert_json(server.call("GET", f"/api/v1/incidents/{incident['id']}", token=customer.token), 200)
    assert after["status"] == "open" and after["comments"] == []
