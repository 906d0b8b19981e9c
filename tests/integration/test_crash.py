"""kill -9 during a burst of 1,000 concurrent order placements: after a restart every order that
got a 201 exists, every saga finishes, and the invariant checker is clean (issue 3). In the split
shape the victim is one module's process: orders (which takes the placements) or payments (which
the sagas call), and only that process is started again (issue 4)."""
import concurrent.futures
import http.client
import json
import threading
import time

import pytest

from conftest import assert_json, in_split, wait_for
from test_invariants import consistent, setup_shop
from test_orders import customer_with_address

BURST = 1000
CLIENTS = 32


@pytest.mark.storage
@pytest.mark.crash
@pytest.mark.bus
@pytest.mark.remote
@pytest.mark.parametrize("victim", ["orders", "payments"] if in_split() else ["the process"])
def test_kill_9_during_a_burst_loses_no_acknowledged_order(make_server, victim):
    server = make_server()
    shop = setup_shop(server)
    buyers = [customer_with_address(server) for _ in range(8)]
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def place(i):
        customer, address_id = buyers[i % len(buyers)]
        body = json.dumps({"items": [{"sku": shop["sku"], "quantity": 1}], "address_id": address_id,
                           "payment_method": "tok_visa"})
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            conn.request("POST", "/api/v1/orders", body=body, headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {customer.token}"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status == 201:
                with lock:
                    acknowledged.append(json.loads(data)["id"])
        except (OSError, http.client.HTTPException):
            pass  # the process is gone: this order was never acknowledged
        finally:
            conn.close()

    def killer():
        # Strike in the middle of the burst, while placements and sagas are both running.
        wait_for(lambda: len(acknowledged) >= BURST // 3, 60, "a third of the burst to be acknowledged")
        server.kill() if victim == "the process" else server.kill(victim)
        killed.set()

    threading.Thread(target=killer, daemon=True).start()
    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(place, range(BURST)))
    assert killed.wait(30), "the burst ended before the kill"
    assert len(acknowledged) >= BURST // 3, len(acknowledged)
    if victim in ("the process", "orders"):  # the process taking the placements was gone
        assert len(acknowledged) < BURST, len(acknowledged)

    server.start()
    operator = server.operator_token()
    for order_id in acknowledged:
        assert_json(server.call("GET", f"/api/v1/orders/{order_id}", token=operator), 200)

    def all_settled():
        for order_id in acknowledged:
            order = assert_json(server.call("GET", f"/api/v1/orders/{order_id}", token=operator), 200)
            if order["status"] in ("pending", "payment_authorized"):
                return False
        return True
    started = time.monotonic()
    wait_for(all_settled, 120 if in_split() else 60, "every acknowledged order's saga to finish after the restart")
    print(f"{len(acknowledged)} acknowledged before the kill; settled {time.monotonic() - started:.1f}s "
          "after the restart")
    consistent(server)
