"""Placing orders and the order saga, end to end in one process."""
import uuid

import pytest

from conftest import assert_field_error, assert_json, assert_problem, error_fields, in_split, wait_for


def assert_unprocessable(resp, field):
    """422: well-formed, but `field` refers to something that is not there (or not yours)."""
    body = assert_problem(resp, 422, "unprocessable")
    assert field in error_fields(body), body


@pytest.fixture(scope="module")
def shop(server):
    """A zone for postal codes 28…, a product, and a courier with room for many deliveries."""
    token = server.operator_token()
    prefix = "28"
    zones = assert_json(server.call("GET", "/api/v1/zones", token=token), 200)["data"]
    if not any(prefix in z["postal_prefixes"] for z in zones):
        assert_json(server.call("POST", "/api/v1/zones", {"name": "Madrid", "postal_prefixes": [prefix]},
                                token=token), 201)
    zone_id = [z for z in assert_json(server.call("GET", "/api/v1/zones", token=token), 200)["data"]
               if prefix in z["postal_prefixes"]][0]["id"]
    sku = "PIZZA-" + uuid.uuid4().hex[:6].upper()
    assert_json(server.call("POST", "/api/v1/catalog/products",
                            {"sku": sku, "name": "Pizza", "price": 1250, "currency": "EUR"}, token=token), 201)
    email = f"courier-{uuid.uuid4().hex[:8]}@example.com"
    courier = assert_json(server.call("POST", "/api/v1/couriers",
                                      {"name": "Carla", "email": email, "password": "courier password",
                                       "zone_id": zone_id, "capacity": 50}, token=token), 201)
    return {"sku": sku, "courier": courier, "courier_token": server.login(email, "courier password")["access_token"]}


def customer_with_address(server, postal_code="28013"):
    customer = server.register_customer()
    address = assert_json(server.call("POST", f"/api/v1/customers/{customer.id}/addresses",
                                      {"label": "Home", "line1": "Calle Mayor 1", "city": "Madrid",
                                       "postal_code": postal_code, "country": "ES"}, token=customer.token), 201)
    return customer, address["id"]


def place(server, customer, address_id, sku, payment_method="tok_visa", quantity=2):
    return server.call("POST", "/api/v1/orders", {"items": [{"sku": sku, "quantity": quantity}],
                                                  "address_id": address_id, "payment_method": payment_method},
                       token=customer.token)


def settled(server, customer, order_id):
    def final():
        order = assert_json(server.call("GET", f"/api/v1/orders/{order_id}", token=customer.token), 200)
        return order if order["status"] not in ("pending", "payment_authorized") else None
    return wait_for(final, 15, f"order {order_id} to leave pending")


@pytest.mark.remote
def test_an_order_is_confirmed_with_catalog_prices_and_a_courier(server, shop):
    customer, address_id = customer_with_address(server)
    resp = place(server, customer, address_id, shop["sku"])
    order = assert_json(resp, 201)
    assert resp.headers["location"] == f"/api/v1/orders/{order['id']}"
    assert order["status"] in ("pending", "payment_authorized", "confirmed")
    assert order["total"] == 2500 and order["items"][0]["unit_price"] == 1250
    assert order["delivery_address"]["postal_code"] == "28013"
    final = settled(server, customer, order["id"])
    assert final["status"] == "confirmed", final
    assert [h["status"] for h in final["status_history"]] == ["pending", "payment_authorized", "confirmed"]
    payment = assert_json(server.call("GET", f"/api/v1/payments/{final['payment_id']}", token=customer.token), 200)
    assert payment["status"] == "authorized" and payment["amount"] == 2500
    delivery = assert_json(server.call("GET", f"/api/v1/deliveries/{final['delivery_id']}", token=customer.token), 200)
    assert delivery["status"] == "assigned" and delivery["courier_id"] == shop["courier"]["id"]
    mine = assert_json(server.call("GET", "/api/v1/couriers/me/deliveries", token=shop["courier_token"]), 200)
    assert delivery["id"] in [d["id"] for d in mine["data"]]
    picked = server.call("POST", f"/api/v1/deliveries/{delivery['id']}/events", {"status": "picked_up"},
                         token=shop["courier_token"])
    assert assert_json(picked, 201)["status"] == "picked_up"


@pytest.mark.remote
def test_a_declined_card_rejects_the_order(server, shop):
    customer, address_id = customer_with_address(server)
    order = assert_json(place(server, customer, address_id, shop["sku"], "tok_declined"), 201)
    final = settled(server, customer, order["id"])
    assert final["status"] == "rejected" and final["rejection_reason"] == "payment_declined"
    payment = assert_json(server.call("GET", f"/api/v1/payments/{final['payment_id']}", token=customer.token), 200)
    assert payment["status"] == "declined"
    assert final["delivery_id"] is None


@pytest.mark.remote
def test_an_address_outside_every_zone_voids_the_authorization(server, shop):
    customer, address_id = customer_with_address(server, postal_code="08001")
    order = assert_json(place(server, customer, address_id, shop["sku"]), 201)
    final = settled(server, customer, order["id"])
    assert final["status"] == "rejected" and final["rejection_reason"] == "zone_not_served"
    payment = assert_json(server.call("GET", f"/api/v1/payments/{final['payment_id']}", token=customer.token), 200)
    assert payment["status"] == "voided"
    assert [op["type"] for op in payment["operations"]] == ["authorize", "void"]


@pytest.mark.remote
def test_a_suspended_customer_is_rejected(server, shop):
    customer, address_id = customer_with_address(server)
    assert_json(server.call("POST", f"/api/v1/customers/{customer.id}/suspend", token=server.operator_token()), 200)
    resp = place(server, customer, address_id, shop["sku"])
    if not in_split():
        # The process that suspended the account refuses its tokens at once (ADR 0021).
        assert_problem(resp, 401)
        return
    # Another process learns of it only when the token expires; orders refuses it meanwhile.
    order = assert_json(resp, 201)
    assert order["status"] == "rejected" and order["rejection_reason"] == "customer_suspended"


@pytest.mark.remote
def test_orders_of_others_are_not_found(server, shop):
    alice, address_id = customer_with_address(server)
    order = assert_json(place(server, alice, address_id, shop["sku"]), 201)
    bob = server.register_customer()
    assert_problem(server.call("GET", f"/api/v1/orders/{order['id']}", token=bob.token), 404)
    theirs = assert_json(server.call("GET", f"/api/v1/orders?customer_id={alice.id}", token=bob.token), 200)
    assert theirs["data"] == []
    mine = assert_json(server.call("GET", "/api/v1/orders", token=alice.token), 200)
    assert [o["id"] for o in mine["data"]] == [order["id"]]
    assert_json(server.call("GET", f"/api/v1/orders/{order['id']}", token=server.operator_token()), 200)
    # Bob cannot use Alice's address either.
    assert_unprocessable(place(server, bob, address_id, shop["sku"]), "address_id")
    assert assert_json(server.call("GET", "/api/v1/orders", token=bob.token), 200)["data"] == []


@pytest.mark.parametrize("body, field, status", [
    ({"items": [], "address_id": "adr_x", "payment_method": "tok_visa"}, "items", 400),
    ({"items": [{"sku": "X", "quantity": 0}], "address_id": "adr_x", "payment_method": "tok_visa"},
     "items[0].quantity", 400),
    ({"items": [{"sku": "X", "quantity": "2"}], "address_id": "adr_x", "payment_method": "tok_visa"},
     "items[0].quantity", 400),
    ({"items": [{"sku": "X", "quantity": 1, "price": 1}], "address_id": "adr_x", "payment_method": "tok_visa"},
     "items[0].price", 400),
    ({"items": [{"sku": "X", "quantity": 1}], "address_id": "adr_x", "payment_method": "tok_visa", "total": 1},
     "total", 400),
    ({"items": [{"sku": "X", "quantity": 1}], "address_id": "adr_x"}, "payment_method", 400),
])
def test_malformed_orders_are_refused(server, shop, body, field, status):
    customer, _ = customer_with_address(server)
    resp = server.call("POST", "/api/v1/orders", body, token=customer.token)
    assert resp.status == status
    assert_field_error(resp, field)
    assert assert_json(server.call("GET", "/api/v1/orders", token=customer.token), 200)["data"] == []


def test_unknown_skus_are_unprocessable(server, shop):
    customer, address_id = customer_with_address(server)
    assert_unprocessable(place(server, customer, address_id, "NO-SUCH-SKU"), "items[0].sku")
    assert assert_json(server.call("GET", "/api/v1/orders", token=customer.token), 200)["data"] == []


def test_only_customers_place_orders(server, shop):
    assert_problem(server.call("POST", "/api/v1/orders", {}, token=server.operator_token()), 403)
    assert_problem(server.call("POST", "/api/v1/orders", {}), 401)


def confirmed_order(server, shop):
    customer, address_id = customer_with_address(server)
    order = assert_json(place(server, customer, address_id, shop["sku"]), 201)
    final = settled(server, customer, order["id"])
    assert final["status"] == "confirmed", final
    return customer, final


def courier_reports(server, shop, delivery_id, status, note=None):
    body = {"status": status}
    if note:
        body["note"] = note
    return assert_json(server.call("POST", f"/api/v1/deliveries/{delivery_id}/events", body,
                                   token=shop["courier_token"]), 201)


def order_status_becomes(server, customer, order_id, status):
    return wait_for(lambda: (lambda o: o if o["status"] == status else None)(
        assert_json(server.call("GET", f"/api/v1/orders/{order_id}", token=customer.token), 200)),
        15, f"order {order_id} to become {status}")


@pytest.mark.bus
def test_pick_up_and_delivery_move_the_order_and_capture_the_payment(server, shop):
    customer, order = confirmed_order(server, shop)
    courier_reports(server, shop, order["delivery_id"], "picked_up")
    order_status_becomes(server, customer, order["id"], "dispatched")
    courier_reports(server, shop, order["delivery_id"], "delivered", "left with the concierge")
    final = order_status_becomes(server, customer, order["id"], "delivered")
    assert [h["status"] for h in final["status_history"]][-2:] == ["dispatched", "delivered"]
    payment = wait_for(lambda: (lambda p: p if p["status"] == "captured" else None)(
        assert_json(server.call("GET", f"/api/v1/payments/{order['payment_id']}", token=customer.token), 200)),
        15, "the capture")
    assert payment["captured_amount"] == order["total"]
    # Operators refund part of it, never more than what was captured.
    refund_path = f"/api/v1/payments/{payment['id']}/refunds"
    refunded = assert_json(server.call("POST", refund_path, {"amount": 500, "reason": "cold pizza"},
                                       token=server.operator_token()), 201)
    assert refunded["status"] == "partially_refunded" and refunded["refunded_amount"] == 500
    too_much = server.call("POST", refund_path, {"amount": order["total"], "reason": "again"},
                           token=server.operator_token())
    assert_problem(too_much, 422, "unprocessable")


@pytest.mark.bus
def test_a_failed_delivery_voids_the_payment(server, shop):
    customer, order = confirmed_order(server, shop)
    courier_reports(server, shop, order["delivery_id"], "failed", "nobody home")
    order_status_becomes(server, customer, order["id"], "delivery_failed")
    payment = wait_for(lambda: (lambda p: p if p["status"] == "voided" else None)(
        assert_json(server.call("GET", f"/api/v1/payments/{order['payment_id']}", token=customer.token), 200)),
        15, "the void")
    assert payment["captured_amount"] == 0


def test_a_courier_cannot_move_someone_elses_delivery(server, shop):
    _, order = confirmed_order(server, shop)
    email = f"other-{uuid.uuid4().hex[:8]}@example.com"
    zone_id = shop["courier"]["zone_id"]
    other_courier = assert_json(server.call("POST", "/api/v1/couriers",
                                            {"name": "Other", "email": email, "password": "courier password",
                                             "zone_id": zone_id, "capacity": 1}, token=server.operator_token()), 201)
    # Offline at once, so later orders keep going to the shop's courier.
    assert_json(server.call("PATCH", f"/api/v1/couriers/{other_courier['id']}", {"status": "offline"},
                            token=server.operator_token()), 200)
    other = server.login(email, "courier password")["access_token"]
    path = f"/api/v1/deliveries/{order['delivery_id']}"
    assert_problem(server.call("POST", path + "/events", {"status": "picked_up"}, token=other), 404)
    assert_problem(server.call("GET", path, token=other), 404)
    assert assert_json(server.call("GET", path, token=shop["courier_token"]), 200)["status"] == "assigned"


@pytest.mark.storage
def test_a_refund_key_refunds_once_and_is_not_reused_for_another_payment(server, shop):
    def delivered_payment():
        customer, order = confirmed_order(server, shop)
        courier_reports(server, shop, order["delivery_id"], "picked_up")
        courier_reports(server, shop, order["delivery_id"], "delivered")
        return wait_for(lambda: (lambda p: p if p["status"] == "captured" else None)(
            assert_json(server.call("GET", f"/api/v1/payments/{order['payment_id']}", token=customer.token), 200)),
            15, "the capture")
    first, second = delivered_payment(), delivered_payment()
    token = server.operator_token()
    headers = {"Idempotency-Key": "refund-42"}
    body = {"amount": 100, "reason": "late"}
    a = assert_json(server.call("POST", f"/api/v1/payments/{first['id']}/refunds", body, token=token,
                                headers=headers), 201)
    again = assert_json(server.call("POST", f"/api/v1/payments/{first['id']}/refunds", body, token=token,
                                    headers=headers), 201)
    reused = server.call("POST", f"/api/v1/payments/{second['id']}/refunds", body, token=token, headers=headers)
    assert_problem(reused, 422, "unprocessable")  # a key names one request (ADR 0009), not one per payment
    untouched = assert_json(server.call("GET", f"/api/v1/payments/{second['id']}", token=token), 200)
    assert untouched["refunded_amount"] == 0


@pytest.mark.remote
def test_the_saga_and_the_consumers_log_with_the_trace_of_the_placing_request(server, shop):
    customer, address_id = customer_with_address(server)
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    body = {"items": [{"sku": shop["sku"], "quantity": 1}], "address_id": address_id, "payment_method": "tok_visa"}
    order = assert_json(server.call("POST", "/api/v1/orders", body, token=customer.token,
                                    headers={"traceparent": traceparent}), 201)
    assert settled(server, customer, order["id"])["status"] == "confirmed"

    def saga_lines():  # each process writes its lines within a second (ADR 0030): wait for both
        lines = [r for r in server.log_records() if r.get("order_id") == order["id"]]
        found = {r.get("msg") for r in lines}
        return lines if {"payment authorization", "order placed"} <= found else None
    lines = wait_for(saga_lines, 15, "the saga's log lines")
    authorization = [r for r in lines if r.get("msg") == "payment authorization"][0]
    assert authorization["trace_id"] == trace_id  # logged on the saga's thread, not the request's
    placed = [r for r in lines if r.get("msg") == "order placed"][0]
    assert placed["trace_id"] == trace_id


def test_the_summary_counts_orders_by_status_and_the_saga_backlog_for_operators_only(server, shop):
    def summary():
        return assert_json(server.call("GET", "/api/v1/orders/summary", token=server.operator_token()), 200)

    before = summary()
    assert set(before["by_status"]) == {"pending", "payment_authorized", "confirmed", "dispatched", "delivered",
                                        "rejected", "cancelled", "delivery_failed"}
    assert before["saga_backlog_limit"] == 10_000
    customer, address_id = customer_with_address(server)
    confirmed = settled(server, customer, assert_json(place(server, customer, address_id, shop["sku"]), 201)["id"])
    declined = settled(server, customer, assert_json(place(server, customer, address_id, shop["sku"],
                                                           payment_method="tok_declined"), 201)["id"])
    assert confirmed["status"] == "confirmed" and declined["status"] == "rejected"

    def counted():
        after = summary()
        grown = {s: after["by_status"][s] - before["by_status"][s] for s in after["by_status"]}
        return after if grown["confirmed"] >= 1 and grown["rejected"] >= 1 and after["saga_backlog"] == 0 else None
    after = wait_for(counted, 15, "the summary to count both orders and an empty backlog")
    assert sum(after["by_status"].values()) == sum(before["by_status"].values()) + 2  # tests run one at a time
    # Only operators: a customer and a courier get 403, no token 401.
    assert_problem(server.call("GET", "/api/v1/orders/summary", token=customer.token), 403)
    assert_problem(server.call("GET", "/api/v1/orders/summary", token=shop["courier_token"]), 403)
    assert_problem(server.call("GET", "/api/v1/orders/summary"), 401)
