"""The catalog (orders module): operators manage products, anyone reads the active ones."""
import uuid

import pytest

from conftest import assert_field_error, assert_json, assert_problem


def new_sku() -> str:
    return "SKU-" + uuid.uuid4().hex[:10].upper()


def create(server, **fields):
    body = {"sku": new_sku(), "name": "Pizza", "price": 1250, "currency": "EUR"}
    body.update(fields)
    return server.call("POST", "/api/v1/catalog/products", body, token=server.operator_token())


def list_products(server, query="", token=None):
    return assert_json(server.call("GET", "/api/v1/catalog/products" + query, token=token), 200)


def test_operator_creates_and_anyone_lists(server):
    resp = create(server, sku="MARGHERITA-" + uuid.uuid4().hex[:6].upper())
    product = assert_json(resp, 201)
    assert product["id"].startswith("prd_") and product["price"] == 1250 and product["active"] is True
    assert resp.headers["location"] == "/api/v1/catalog/products/" + product["id"]
    assert resp.headers["etag"] == '"1"'
    listed = list_products(server)  # no token needed
    assert product["id"] in [p["id"] for p in listed["data"]]


def test_inactive_products_are_hidden_from_the_public_list(server):
    product = assert_json(create(server, active=False), 201)
    assert product["id"] not in [p["id"] for p in list_products(server, "?limit=200")["data"]]
    everything = list_products(server, "?include_inactive=true&limit=200", token=server.operator_token())
    assert product["id"] in [p["id"] for p in everything["data"]]


def test_only_operators_see_inactive_products(server):
    customer = server.register_customer()
    assert_problem(server.call("GET", "/api/v1/catalog/products?include_inactive=true", token=customer.token), 403)
    assert_problem(server.call("GET", "/api/v1/catalog/products?include_inactive=true"), 401)
    resp = server.call("GET", "/api/v1/catalog/products?include_inactive=maybe")
    assert_field_error(resp, "include_inactive")


def test_customers_and_anonymous_callers_cannot_change_the_catalog(server):
    customer = server.register_customer()
    body = {"sku": new_sku(), "name": "X", "price": 1, "currency": "EUR"}
    assert_problem(server.call("POST", "/api/v1/catalog/products", body, token=customer.token), 403)
    assert_problem(server.call("POST", "/api/v1/catalog/products", body), 401)
    assert server.call("GET", "/api/v1/catalog/products?limit=200").body["data"] is not None
    assert body["sku"] not in [p["sku"] for p in list_products(server, "?limit=200")["data"]]


@pytest.mark.parametrize("fields, bad", [
    ({"sku": "has space"}, "sku"),
    ({"price": -1}, "price"),
    ({"price": "12.50"}, "price"),
    ({"price": 12.5}, "price"),
    ({"currency": "eur"}, "currency"),
    ({"currency": "EURO"}, "currency"),
    ({"name": ""}, "name"),
    ({"active": "yes"}, "active"),
    ({"id": "prd_01M8BB4HNCHH2C3TSKFDPWMYAD"}, "id"),
    ({"version": 7}, "version"),
])
def test_invalid_products_are_refused_and_nothing_is_created(server, fields, bad):
    sku = new_sku()
    body = {"sku": sku, "name": "Pizza", "price": 1250, "currency": "EUR"}
    body.update(fields)
    resp = server.call("POST", "/api/v1/catalog/products", body, token=server.operator_token())
    assert_field_error(resp, bad)
    everything = list_products(server, "?include_inactive=true&limit=200", token=server.operator_token())
    assert body["sku"] not in [p["sku"] for p in everything["data"]]


@pytest.mark.storage
def test_duplicate_sku_is_a_conflict(server):
    sku = new_sku()
    assert_json(create(server, sku=sku), 201)
    assert_problem(create(server, sku=sku, name="Other"), 409, "conflict")


def test_patch_with_if_match(server):
    product = assert_json(create(server), 201)
    path = "/api/v1/catalog/products/" + product["id"]
    token = server.operator_token()
    updated = assert_json(server.call("PATCH", path, {"price": 1400}, token=token, headers={"If-Match": '"1"'}), 200)
    assert updated["price"] == 1400 and updated["version"] == 2
    stale = server.call("PATCH", path, {"price": 1}, token=token, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition-failed")
    listed = list_products(server, "?include_inactive=true&limit=200", token=token)
    assert [p["price"] for p in listed["data"] if p["id"] == product["id"]] == [1400]
    assert_problem(server.call("PATCH", "/api/v1/catalog/products/prd_unknown", {"price": 1}, token=token), 404)
    assert_field_error(server.call("PATCH", path, {"sku": "NEW"}, token=token), "sku")


def test_one_answer_names_every_bad_field(server):
    body = {"sku": "bad sku", "name": "", "price": 1, "currency": "eur"}
    resp = server.call("POST", "/api/v1/catalog/products", body, token=server.operator_token())
    problem = assert_problem(resp, 400, "validation-error")
    assert {e["field"] for e in problem["errors"]} == {"sku", "name", "currency"}
