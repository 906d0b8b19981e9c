"""Idempotency-Key on POST (docs/openapi.yaml, ADR 0009): replay byte for byte, 422 for another
request, 409 while the first runs, scoped to the caller, and the effect happens once."""
import concurrent.futures
import json
import time
import uuid

import pytest

from conftest import assert_json, assert_problem, describe, strong_password, unique_email
from test_orders import customer_with_address, shop  # noqa: F401  (shop is a fixture)


def key():
    return str(uuid.uuid4())


def order_body(shop, address_id, quantity=1):
    return {"items": [{"sku": shop["sku"], "quantity": quantity}], "address_id": address_id,
            "payment_method": "tok_visa"}


def my_orders(server, customer):
    return assert_json(server.call("GET", "/api/v1/orders", token=customer.token), 200)["data"]


@pytest.mark.storage
@pytest.mark.remote
def test_a_repeated_order_is_placed_once_and_answered_byte_for_byte(server, shop):
    customer, address_id = customer_with_address(server)
    headers = {"Idempotency-Key": key()}
    first = server.call("POST", "/api/v1/orders", order_body(shop, address_id), token=customer.token,
                        headers=headers)
    assert first.status == 201
    again = server.call("POST", "/api/v1/orders", order_body(shop, address_id), token=customer.token,
                        headers=headers)
    assert again.status == 201
    assert again.raw == first.raw  # the same bytes, not just the same order
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # each request has its own id
    assert [o["id"] for o in my_orders(server, customer)] == [first.body["id"]]


@pytest.mark.storage
def test_the_same_key_with_another_body_is_unprocessable_and_changes_nothing(server, shop):
    customer, address_id = customer_with_address(server)
    headers = {"Idempotency-Key": key()}
    assert_json(server.call("POST", "/api/v1/orders", order_body(shop, address_id), token=customer.token,
                            headers=headers), 201)
    other = server.call("POST", "/api/v1/orders", order_body(shop, address_id, quantity=3), token=customer.token,
                        headers=headers)
    body = assert_problem(other, 422, "unprocessable")
    assert "Idempotency-Key" in body["detail"]
    assert len(my_orders(server, customer)) == 1


@pytest.mark.storage
def test_keys_belong_to_their_caller(server, shop):
    alice, alice_address = customer_with_address(server)
    bob, bob_address = customer_with_address(server)
    shared = {"Idempotency-Key": "my-first-order"}
    a = assert_json(server.call("POST", "/api/v1/orders", order_body(shop, alice_address), token=alice.token,
                                headers=shared), 201)
    b = assert_json(server.call("POST", "/api/v1/orders", order_body(shop, bob_address), token=bob.token,
                                headers=shared), 201)
    assert a["id"] != b["id"] and b["customer_id"] == bob.id
    assert [o["id"] for o in my_orders(server, bob)] == [b["id"]]


@pytest.mark.storage
def test_an_error_is_replayed_too_and_nothing_is_created(server, shop):
    customer, address_id = customer_with_address(server)
    headers = {"Idempotency-Key": key()}
    body = {"items": [{"sku": "NO-SUCH-SKU", "quantity": 1}], "address_id": address_id, "payment_method": "tok_visa"}
    first = server.call("POST", "/api/v1/orders", body, token=customer.token, headers=headers)
    assert_problem(first, 422)
    again = server.call("POST", "/api/v1/orders", body, token=customer.token, headers=headers)
    assert again.status == 422 and again.raw == first.raw
    assert my_orders(server, customer) == []


@pytest.mark.storage
@pytest.mark.remote
def test_a_cancel_repeated_with_its_key_answers_200_again(server, shop):
    customer, address_id = customer_with_address(server)
    order = assert_json(server.call("POST", "/api/v1/orders", order_body(shop, address_id), token=customer.token),
                        201)
    headers = {"Idempotency-Key": key()}
    path = f"/api/v1/orders/{order['id']}/cancel"
    # Racing the order's saga on PostgreSQL, the cancel may keep losing serialization conflicts
    # and be refused whole with 503 + Retry-After (ADR 0012; seen under ASan in CI): a client
    # repeats it with the same key, and so does this test. A 503 is not stored under the key.
    for _ in range(5):
        first = server.call("POST", path, None, token=customer.token, headers=headers)
        if first.status != 503:
            break
        assert first.headers["retry-after"] == "1", describe(first)
        time.sleep(1)
    if first.status == 409:
        pytest.skip("the saga finished before the cancel")
    assert first.status == 200
    again = server.call("POST", path, None, token=customer.token, headers=headers)
    assert again.status == 200 and again.raw == first.raw
    # Without the key, the repeat is a new request: a conflict, since it is cancelled already.
    assert_problem(server.call("POST", path, None, token=customer.token), 409)


# shape-neutral: the 401 is answered before any key is stored; storing the retry is what the storage tests cover
def test_a_401_is_not_stored_so_a_retry_with_a_token_goes_through(server, shop):
    customer, address_id = customer_with_address(server)
    headers = {"Idempotency-Key": key()}
    assert_problem(server.call("POST", "/api/v1/orders", order_body(shop, address_id), headers=headers), 401)
    assert_json(server.call("POST", "/api/v1/orders", order_body(shop, address_id), token=customer.token,
                            headers=headers), 201)


# shape-neutral: a malformed key is refused while the header is read, before anything is stored
@pytest.mark.parametrize("value", ["", "has space", "x" * 256, "caf\u00e9"])
def test_malformed_keys_are_refused(server, shop, value):
    customer, address_id = customer_with_address(server)
    resp = server.call("POST", "/api/v1/orders", order_body(shop, address_id), token=customer.token,
                       headers={"Idempotency-Key": value})
    assert_problem(resp, 400)
    assert my_orders(server, customer) == []


@pytest.mark.gateway
def test_two_keys_are_refused(server, shop):
    customer, address_id = customer_with_address(server)
    payload = json.dumps(order_body(shop, address_id)).encode()
    head = (f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {customer.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nIdempotency-Key: a\r\n"
            f"Idempotency-Key: b\r\nConnection: close\r\n\r\n").encode()
    resp = server.raw_exchange(head, [payload], method="POST")
    assert_problem(resp, 400)
    assert my_orders(server, customer) == []


@pytest.mark.storage
def test_concurrent_repeats_create_one_customer(server):
    """Registration hashes the password (tens of ms), so parallel repeats overlap the first:
    they get 409 (still in progress) or the replay, and one customer exists."""
    email = unique_email("idem")
    body = {"email": email, "password": strong_password(), "name": "Ines"}
    headers = {"Idempotency-Key": key()}

    def register(_):
        return server.call("POST", "/api/v1/customers", body, headers=headers)
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(register, range(6)))
    statuses = sorted(a.status for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = {a.body["id"] for a in answers if a.status == 201}
    assert len(created) == 1
    for conflict in (a for a in answers if a.status == 409):
        assert conflict.headers["retry-after"] == "1"
    assert [c["id"] for c in server.search_by_email(email)] == list(created)
    replay = server.call("POST", "/api/v1/customers", body, headers=headers)
    assert replay.status == 201 and replay.body["id"] in created
