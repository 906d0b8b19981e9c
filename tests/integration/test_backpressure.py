"""Back-pressure of placement (ADR 0030): past --max-saga-backlog unfinished sagas, POST
/api/v1/orders answers 503 with Retry-After and a problem, creates nothing, and takes orders
again once the saga has caught up. tok_slow holds each authorization for two seconds, which keeps
two sagas unfinished long enough to be sure of the third request's answer."""
import pytest

from conftest import assert_json, assert_problem, wait_for
from test_invariants import consistent, setup_shop
from test_orders import customer_with_address, place

pytestmark = [pytest.mark.storage]


def test_past_the_saga_backlog_placement_answers_503_and_takes_orders_again(make_server):
    server = make_server(extra_args=["--max-saga-backlog", "2"])
    shop = setup_shop(server)
    customer, address_id = customer_with_address(server)
    slow = [assert_json(place(server, customer, address_id, shop["sku"], "tok_slow"), 201) for _ in range(2)]

    refused = place(server, customer, address_id, shop["sku"])
    problem = assert_problem(refused, 503)
    assert "waiting for payment and delivery" in problem["detail"]
    assert refused.headers.get("retry-after") == "2"
    mine = assert_json(server.call("GET", "/api/v1/orders", token=customer.token), 200)["data"]
    assert sorted(o["id"] for o in mine) == sorted(o["id"] for o in slow)  # nothing was created

    def both_settled():
        seen = [assert_json(server.call("GET", f"/api/v1/orders/{o['id']}", token=customer.token), 200)
                for o in slow]
        return all(o["status"] == "confirmed" for o in seen)
    wait_for(both_settled, 30, "the two slow orders to be confirmed")
    # Counted again within a quarter of a second: the next order is taken.
    accepted = wait_for(lambda: (lambda r: r if r.status == 201 else None)(
        place(server, customer, address_id, shop["sku"])), 10, "an order to be accepted again")
    assert accepted.status == 201
    consistent(server)


def test_a_limit_of_0_refuses_nothing(make_server):
    server = make_server(extra_args=["--max-saga-backlog", "0"])
    shop = setup_shop(server)
    customer, address_id = customer_with_address(server)
    for _ in range(3):
        assert_json(place(server, customer, address_id, shop["sku"], "tok_slow"), 201)
    consistent(server)
