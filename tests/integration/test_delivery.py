"""Zones, couriers and delivery routes over HTTP. Deliveries are scheduled by the order saga
(issue 3); until it lands these cover zones, couriers and every rejection path."""
import uuid

import pytest

from conftest import assert_field_error, assert_json, assert_problem

UNKNOWN_DELIVERY = "dlv_01M8BB4HNCHH2C3TSKFDPWMYAD"


def new_zone(server, prefixes=None):
    prefixes = prefixes or [str(uuid.uuid4().int)[:6]]
    return assert_json(server.call("POST", "/api/v1/zones", {"name": "Zone", "postal_prefixes": prefixes},
                                   token=server.operator_token()), 201)


def new_courier(server, zone_id, capacity=2):
    email = f"courier-{uuid.uuid4().hex[:10]}@example.com"
    resp = server.call("POST", "/api/v1/couriers",
                       {"name": "Carla", "email": email, "password": "courier password", "zone_id": zone_id,
                        "capacity": capacity}, token=server.operator_token())
    return assert_json(resp, 201), email


@pytest.mark.remote
def test_operator_creates_zones_and_couriers_and_the_courier_logs_in(server):
    zone = new_zone(server, ["99" + uuid.uuid4().hex[:4].upper()])
    assert zone["id"].startswith("zon_")
    courier, email = new_courier(server, zone["id"])
    assert courier["id"].startswith("cou_") and courier["status"] == "available" and courier["capacity"] == 2
    assert courier["account_id"].startswith("acc_")
    token = server.login(email, "courier password")["access_token"]
    mine = assert_json(server.call("GET", "/api/v1/couriers/me/deliveries", token=token), 200)
    assert mine == {"data": [], "next_cursor": None}
    listed = assert_json(server.call("GET", "/api/v1/couriers", token=server.operator_token()), 200)
    assert courier["id"] in [c["id"] for c in listed["data"]]
    zones = assert_json(server.call("GET", "/api/v1/zones", token=server.operator_token()), 200)
    assert zone["id"] in [z["id"] for z in zones["data"]]


def test_courier_patch_with_if_match(server):
    zone = new_zone(server)
    courier, _ = new_courier(server, zone["id"])
    path = "/api/v1/couriers/" + courier["id"]
    token = server.operator_token()
    offline = assert_json(server.call("PATCH", path, {"status": "offline"}, token=token, headers={"If-Match": '"1"'}),
                          200)
    assert offline["status"] == "offline" and offline["version"] == 2
    assert_problem(server.call("PATCH", path, {"capacity": 3}, token=token, headers={"If-Match": '"1"'}), 412)
    assert_field_error(server.call("PATCH", path, {"status": "busy"}, token=token), "status")
    assert_field_error(server.call("PATCH", path, {"account_id": "acc_x"}, token=token), "account_id")
    assert_problem(server.call("PATCH", path, {"zone_id": "zon_unknown"}, token=token), 422)


@pytest.mark.storage
def test_overlapping_prefix_is_a_conflict(server):
    prefix = "77" + uuid.uuid4().hex[:4].upper()
    new_zone(server, [prefix])
    resp = server.call("POST", "/api/v1/zones", {"name": "Again", "postal_prefixes": [prefix]},
                       token=server.operator_token())
    assert_problem(resp, 409, "conflict")


@pytest.mark.parametrize("body, field", [
    ({"name": "Z"}, "postal_prefixes"),
    ({"name": "Z", "postal_prefixes": []}, "postal_prefixes"),
    ({"name": "Z", "postal_prefixes": [28]}, "postal_prefixes"),
    ({"name": "Z", "postal_prefixes": ["2 8!"]}, "postal_prefixes"),
    ({"name": "", "postal_prefixes": ["28"]}, "name"),
    ({"name": "Z", "postal_prefixes": ["28"], "id": "zon_x"}, "id"),
])
def test_invalid_zones_are_refused(server, body, field):
    assert_field_error(server.call("POST", "/api/v1/zones", body, token=server.operator_token()), field)


@pytest.mark.storage
@pytest.mark.remote
def test_courier_creation_rejections(server):
    zone = new_zone(server)
    token = server.operator_token()
    base = {"name": "C", "email": "c@example.com", "password": "courier password", "zone_id": zone["id"]}
    assert_field_error(server.call("POST", "/api/v1/couriers", dict(base, capacity=0), token=token), "capacity")
    assert_field_error(server.call("POST", "/api/v1/couriers", dict(base, password="short"), token=token), "password")
    assert_field_error(server.call("POST", "/api/v1/couriers", dict(base, status="busy"), token=token), "status")
    assert_problem(server.call("POST", "/api/v1/couriers", dict(base, zone_id="zon_nope"), token=token), 422)
    _, email = new_courier(server, zone["id"])
    assert_problem(server.call("POST", "/api/v1/couriers", dict(base, email=email), token=token), 409)


def test_roles_for_zones_couriers_and_deliveries(server):
    customer = server.register_customer()
    assert_problem(server.call("GET", "/api/v1/zones", token=customer.token), 403)
    assert_problem(server.call("POST", "/api/v1/couriers", {}, token=customer.token), 403)
    assert_problem(server.call("GET", "/api/v1/couriers/me/deliveries", token=customer.token), 403)
    assert_problem(server.call("GET", "/api/v1/zones"), 401)
    assert_problem(server.call("GET", f"/api/v1/deliveries/{UNKNOWN_DELIVERY}", token=customer.token), 404)
    assert_problem(server.call("GET", f"/api/v1/deliveries/{UNKNOWN_DELIVERY}", token=server.operator_token()), 404)
    assert_field_error(server.call("GET", "/api/v1/deliveries", token=server.operator_token()), "order_id")
    event = {"status": "picked_up"}
    path = f"/api/v1/deliveries/{UNKNOWN_DELIVERY}/events"
    assert_problem(server.call("POST", path, event, token=customer.token), 403)
    assert_problem(server.call("POST", path, event, token=server.operator_token()), 404)
    assert_field_error(server.call("POST", path, {"status": "teleported"}, token=server.operator_token()), "status")
    assert_field_error(server.call("POST", path, {"status": "failed"}, token=server.operator_token()), "note")


@pytest.mark.storage
def test_zones_and_couriers_are_listed_in_pages(server):
    token = server.operator_token()
    made = [new_zone(server)["id"] for _ in range(3)]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = assert_json(server.call("GET", "/api/v1/zones" + query, token=token), 200)
        assert len(page["data"]) <= 2
        seen += [z["id"] for z in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first
    couriers = assert_json(server.call("GET", "/api/v1/couriers?limit=1", token=token), 200)
    assert len(couriers["data"]) <= 1
    assert_problem(server.call("GET", "/api/v1/couriers?limit=0", token=token), 400)
    assert_problem(server.call("GET", "/api/v1/zones?cursor=not-a-cursor", token=token), 400)
