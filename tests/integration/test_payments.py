"""Payments over HTTP. Payments are created by the order saga (issue 3); until it lands these
tests cover the read and refund routes' authorization and rejection paths."""
from conftest import assert_bearer_challenge, assert_field_error, assert_json, assert_problem

UNKNOWN_PAYMENT = "pay_01M8BB4HNCHH2C3TSKFDPWMYAD"


def test_reading_payments_needs_a_token(server):
    assert_bearer_challenge(server.call("GET", f"/api/v1/payments/{UNKNOWN_PAYMENT}"), invalid_token=False)
    assert_bearer_challenge(server.call("GET", "/api/v1/payments?order_id=ord_x"), invalid_token=False)


def test_unknown_payment_is_404_for_customers_and_operators(server):
    customer = server.register_customer()
    assert_problem(server.call("GET", f"/api/v1/payments/{UNKNOWN_PAYMENT}", token=customer.token), 404)
    assert_problem(server.call("GET", f"/api/v1/payments/{UNKNOWN_PAYMENT}", token=server.operator_token()), 404)
    assert_problem(server.call("GET", "/api/v1/payments/not-an-id", token=server.operator_token()), 404)


def test_listing_needs_an_order_id(server):
    resp = server.call("GET", "/api/v1/payments", token=server.operator_token())
    assert_field_error(resp, "order_id")
    body = assert_json(server.call("GET", "/api/v1/payments?order_id=ord_unknown", token=server.operator_token()), 200)
    assert body == {"data": [], "next_cursor": None}


def test_machine_clients_cannot_read_payments_over_http(server):
    assert_problem(server.call("GET", f"/api/v1/payments/{UNKNOWN_PAYMENT}", token=server.service_token()), 403)


def test_refunds_are_for_operators_and_validated(server):
    customer = server.register_customer()
    body = {"amount": 100, "reason": "damaged"}
    path = f"/api/v1/payments/{UNKNOWN_PAYMENT}/refunds"
    assert_problem(server.call("POST", path, body, token=customer.token), 403)
    assert_problem(server.call("POST", path, body), 401)
    token = server.operator_token()
    assert_problem(server.call("POST", path, body, token=token), 404)
    assert_field_error(server.call("POST", path, {"amount": 0, "reason": "x"}, token=token), "amount")
    assert_field_error(server.call("POST", path, {"amount": 100}, token=token), "reason")
    assert_field_error(server.call("POST", path, {"amount": 100, "reason": "x", "status": "refunded"}, token=token),
                       "status")
    assert_problem(server.call("POST", path, raw=b"not json", token=token, content_type="text/plain"), 415)
