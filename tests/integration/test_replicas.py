"""Two replicas of the whole application on one PostgreSQL database, as operators scale it: a
burst of orders placed on both at once is processed exactly once. Each replica runs its own
outbox relay, event consumers and saga runner over the same tables; the suite checks that no
order is authorized, scheduled or confirmed twice, and that the invariant checker is clean."""
import concurrent.futures
import time

import pytest

from conftest import assert_json, postgres_only, wait_for, single_process
from test_invariants import consistent, setup_shop
from test_orders import customer_with_address

pytestmark = single_process

ORDERS = 120


def query(server, sql):
    import psycopg2  # PostgreSQL runs only (Debian: python3-psycopg2)
    schemas = "public,customers,payments,delivery,orders,incidents,core"
    with psycopg2.connect(server.database_url, options=f"-c search_path={schemas}") as db, db.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.storage
@pytest.mark.replicas
@postgres_only
def test_two_replicas_on_one_database_process_every_order_exactly_once(make_server):
    first = make_server()
    second = make_server(replica_of=first)
    shop = setup_shop(first)
    buyers = [customer_with_address(first) for _ in range(6)]

    busy = []

    def place(i):
        replica = (first, second)[i % 2]
        customer, address_id = buyers[i % len(buyers)]
        body = {"items": [{"sku": shop["sku"], "quantity": 1}], "address_id": address_id,
                "payment_method": "tok_visa"}
        # A write that keeps losing serialization conflicts is refused whole with 503 and
        # Retry-After (ADR 0012): the client tries again, as a real one does; nothing is half-made.
        for _ in range(10):
            resp = replica.call("POST", "/api/v1/orders", body, token=customer.token)
            if resp.status != 503:
                return assert_json(resp, 201)["id"]
            assert resp.headers["retry-after"] == "1"
            busy.append(i)
            time.sleep(1)
        raise AssertionError(f"order {i} refused ten times")

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        placed = list(pool.map(place, range(ORDERS)))
    assert len(set(placed)) == ORDERS
    assert len(busy) < ORDERS // 4, f"{len(busy)} placements refused as busy"

    operator = second.operator_token()

    def all_confirmed():
        return all(assert_json(second.call("GET", f"/api/v1/orders/{order_id}", token=operator), 200)["status"]
                   == "confirmed" for order_id in placed)
    wait_for(all_confirmed, 60, "every order to be confirmed by one replica or the other")
    consistent(first)

    ids = ", ".join(f"'{order_id}'" for order_id in placed)
    # One payment with one authorization, one delivery, one confirmation per order.
    assert query(first, f"SELECT COUNT(*), COUNT(DISTINCT order_id) FROM payments_payments "
                        f"WHERE order_id IN ({ids})") == [(ORDERS, ORDERS)]
    assert query(first, f"SELECT COUNT(*) FROM payments_operations o JOIN payments_payments p "
                        f"ON p.id = o.payment_id WHERE o.type = 'authorize' AND p.order_id IN ({ids})") == [(ORDERS,)]
    assert query(first, f"SELECT COUNT(*), COUNT(DISTINCT order_id) FROM delivery_deliveries "
                        f"WHERE order_id IN ({ids})") == [(ORDERS, ORDERS)]
    assert query(first, f"SELECT COUNT(*) FROM orders_status_history WHERE status = 'confirmed' "
                        f"AND order_id IN ({ids})") == [(ORDERS,)]
    # Both replicas did work: the burst was really shared.
    for replica in (first, second):
        requests = [line for line in replica.logs if line.get("msg") == "request" and line.get("path") == "/api/v1/orders"]
        assert len(requests) >= ORDERS // 2 - 1
