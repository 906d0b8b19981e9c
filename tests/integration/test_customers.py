"""Customers: the happy paths and the role/ownership rules of docs/customers-contract.md."""
import datetime
import json
import urllib.parse
import uuid

import pytest

from conftest import (ADDRESS_ID_RE, ADDRESS_KEYS, CUSTOMER_ID_RE, CUSTOMER_KEYS, TIMESTAMP_RE,
                      assert_field_error, assert_json, assert_problem, decode_jwt, describe,
                      etag_for, strong_password, unique_email)

ADDRESS = {"label": "Home", "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013",
           "country": "ES"}
UNKNOWN_CUSTOMER = "cus_00000000000000000000000000"
UNKNOWN_ADDRESS = "adr_00000000000000000000000000"


def parse_ts(text: str) -> tuple:
    """RFC 3339 UTC 'YYYY-MM-DDTHH:MM:SS[.fff…]Z' as a comparable tuple."""
    base, _, frac = text.rstrip("Z").partition(".")
    return (datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S"), float("0." + (frac or "0")))


def path_of(location: str) -> str:
    return urllib.parse.urlsplit(location).path


def assert_customer(body: dict) -> None:
    assert isinstance(body, dict)
    assert set(body) == CUSTOMER_KEYS, f"customer keys: {sorted(body)}"
    assert CUSTOMER_ID_RE.match(body["id"]), body["id"]
    assert body["status"] in ("active", "suspended")
    assert isinstance(body["version"], int) and not isinstance(body["version"], bool)
    assert TIMESTAMP_RE.match(body["created_at"]), body["created_at"]
    assert TIMESTAMP_RE.match(body["updated_at"]), body["updated_at"]
    assert body["phone"] is None or isinstance(body["phone"], str)
    assert isinstance(body["addresses"], list)
    for address in body["addresses"]:
        assert set(address) == ADDRESS_KEYS, address


# -- registration -----------------------------------------------------------------------------


def test_register_creates_customer(server):
    token = uuid.uuid4().hex
    email = f"It.User-{token}@Example.COM"
    password = strong_password()
    resp = server.call("POST", "/api/v1/customers",
                       {"email": email, "password": password, "name": "Ada Lovelace"})
    body = assert_json(resp, 201)
    assert_customer(body)
    assert body["email"] == email.lower()
    assert body["name"] == "Ada Lovelace"
    assert body["phone"] is None
    assert body["status"] == "active"
    assert body["addresses"] == []
    assert path_of(resp.headers["location"]) == f"/api/v1/customers/{body['id']}"
    assert resp.headers.get("etag") == etag_for(body["version"])
    assert password not in json.dumps(body)  # no password or hash echoed back

    # It reads back identically, and the new customer can log in with the lower-cased email.
    tokens = server.login(email.lower(), password)
    again = server.call("GET", f"/api/v1/customers/{body['id']}", token=tokens["access_token"])
    assert assert_json(again, 200) == body
    assert again.headers.get("etag") == etag_for(body["version"])
    _, claims, _ = decode_jwt(tokens["access_token"])
    assert claims["sub"] == body["id"]
    assert claims["roles"] == ["customer"]


def test_register_with_phone(server):
    phone = "+34 (600) 123-456"
    account = server.register_customer(phone=phone, login=False)
    assert account.customer["phone"] == phone


def test_register_accepts_boundary_lengths(server):
    # password exactly 10 and 128 chars, name 1 and 200 chars, phone 32 chars, email 254 chars.
    short = server.call("POST", "/api/v1/customers",
                        {"email": unique_email(), "password": "p" * 10, "name": "N",
                         "phone": "1" * 32})
    assert assert_json(short, 201)["name"] == "N"
    local = ("b" + uuid.uuid4().hex).ljust(64, "x")
    domain = "d" * 63 + "." + "e" * 63 + "." + "f" * 57 + ".com"
    email = f"{local}@{domain}"
    assert len(email) == 254
    long_ = server.call("POST", "/api/v1/customers",
                        {"email": email, "password": "p" * 128, "name": "n" * 200})
    assert assert_json(long_, 201)["email"] == email


# -- reading ---------------------------------------------------------------------------------


def test_get_self(server):
    account = server.register_customer()
    resp = server.call("GET", f"/api/v1/customers/{account.id}", token=account.token)
    body = assert_json(resp, 200)
    assert_customer(body)
    assert body == account.customer
    assert resp.headers.get("etag") == etag_for(body["version"])


def test_get_another_customers_profile_is_404(server):
    alice = server.register_customer()
    bob = server.register_customer()
    resp = server.call("GET", f"/api/v1/customers/{bob.id}", token=alice.token)
    body = assert_problem(resp, 404, "not-found")
    assert bob.email not in json.dumps(body)
    # Indistinguishable from an id that does not exist at all (apart from request_id).
    missing = server.call("GET", f"/api/v1/customers/{UNKNOWN_CUSTOMER}", token=alice.token)
    other = assert_problem(missing, 404, "not-found")
    assert {k: v for k, v in body.items() if k not in ("request_id", "detail")} == \
        {k: v for k, v in other.items() if k not in ("request_id", "detail")}


def test_operator_gets_any_customer(server):
    account = server.register_customer(login=False)
    resp = server.call("GET", f"/api/v1/customers/{account.id}", token=server.operator_token())
    assert assert_json(resp, 200) == account.customer
    assert resp.headers.get("etag") == etag_for(account.customer["version"])


def test_operator_gets_404_for_unknown_customer(server):
    resp = server.call("GET", f"/api/v1/customers/{UNKNOWN_CUSTOMER}",
                       token=server.operator_token())
    assert_problem(resp, 404, "not-found")


# -- updating --------------------------------------------------------------------------------


def test_patch_with_matching_if_match(server):
    account = server.register_customer(phone="600000000")
    before = account.customer
    resp = server.call("PATCH", f"/api/v1/customers/{account.id}", {"name": "Renamed"},
                       token=account.token, headers={"If-Match": etag_for(before["version"])})
    body = assert_json(resp, 200)
    assert_customer(body)
    assert body["name"] == "Renamed"
    assert body["version"] == before["version"] + 1
    assert resp.headers.get("etag") == etag_for(before["version"] + 1)
    for unchanged in ("id", "email", "phone", "status", "addresses", "created_at"):
        assert body[unchanged] == before[unchanged], unchanged
    assert parse_ts(body["updated_at"]) >= parse_ts(before["updated_at"])
    assert server.get_customer(account.id) == body


def test_patch_with_stale_if_match_is_412_and_changes_nothing(server):
    account = server.register_customer()
    version = account.customer["version"]
    first = server.call("PATCH", f"/api/v1/customers/{account.id}", {"name": "First"},
                        token=account.token, headers={"If-Match": etag_for(version)})
    current = assert_json(first, 200)
    stale = server.call("PATCH", f"/api/v1/customers/{account.id}",
                        {"name": "Second", "phone": "611111111"},
                        token=account.token, headers={"If-Match": etag_for(version)})
    assert_problem(stale, 412, "precondition-failed")
    after = server.get_customer(account.id)
    assert after == current
    assert after["name"] == "First"
    assert after["phone"] is None


def test_patch_without_if_match(server):
    account = server.register_customer()
    resp = server.call("PATCH", f"/api/v1/customers/{account.id}", {"phone": "+1 555 0100"},
                       token=account.token)
    body = assert_json(resp, 200)
    assert body["phone"] == "+1 555 0100"
    assert body["version"] == account.customer["version"] + 1
    assert resp.headers.get("etag") == etag_for(body["version"])


def test_patch_phone_null_clears_it(server):
    account = server.register_customer(phone="600123123")
    resp = server.call("PATCH", f"/api/v1/customers/{account.id}", {"phone": None},
                       token=account.token)
    assert assert_json(resp, 200)["phone"] is None
    assert server.get_customer(account.id)["phone"] is None


def test_patch_accepts_merge_patch_json(server):
    account = server.register_customer()
    resp = server.call("PATCH", f"/api/v1/customers/{account.id}", {"name": "Merge Patched"},
                       token=account.token, content_type="application/merge-patch+json")
    assert assert_json(resp, 200)["name"] == "Merge Patched"


def test_json_content_type_with_charset_is_accepted(server):
    account = server.register_customer()
    resp = server.call("PATCH", f"/api/v1/customers/{account.id}", {"name": "Charset"},
                       token=account.token, content_type="application/json; charset=utf-8")
    assert assert_json(resp, 200)["name"] == "Charset"


def test_operator_patches_any_customer(server):
    account = server.register_customer(login=False)
    resp = server.call("PATCH", f"/api/v1/customers/{account.id}", {"name": "By Operator"},
                       token=server.operator_token(),
                       headers={"If-Match": etag_for(account.customer["version"])})
    assert assert_json(resp, 200)["name"] == "By Operator"
    assert server.get_customer(account.id)["name"] == "By Operator"


# -- addresses -------------------------------------------------------------------------------


def test_add_and_delete_address(server):
    account = server.register_customer()
    resp = server.call("POST", f"/api/v1/customers/{account.id}/addresses", ADDRESS,
                       token=account.token)
    address = assert_json(resp, 201)
    assert set(address) == ADDRESS_KEYS
    assert ADDRESS_ID_RE.match(address["id"]), address
    assert {k: v for k, v in address.items() if k != "id"} == ADDRESS
    assert path_of(resp.headers["location"]) == \
        f"/api/v1/customers/{account.id}/addresses/{address['id']}"

    customer = server.get_customer(account.id, token=account.token)
    assert customer["addresses"] == [address]

    deleted = server.call("DELETE", f"/api/v1/customers/{account.id}/addresses/{address['id']}",
                          token=account.token)
    assert deleted.status == 204, describe(deleted)
    assert deleted.body is None
    assert server.get_customer(account.id)["addresses"] == []

    again = server.call("DELETE", f"/api/v1/customers/{account.id}/addresses/{address['id']}",
                        token=account.token)
    assert_problem(again, 404, "not-found")


def test_operator_manages_any_customers_addresses(server):
    account = server.register_customer(login=False)
    op = server.operator_token()
    resp = server.call("POST", f"/api/v1/customers/{account.id}/addresses", ADDRESS, token=op)
    address = assert_json(resp, 201)
    assert server.get_customer(account.id)["addresses"] == [address]
    deleted = server.call("DELETE", f"/api/v1/customers/{account.id}/addresses/{address['id']}",
                          token=op)
    assert deleted.status == 204, describe(deleted)
    assert server.get_customer(account.id)["addresses"] == []


def test_delete_unknown_address_is_404(server):
    account = server.register_customer()
    resp = server.call("DELETE", f"/api/v1/customers/{account.id}/addresses/{UNKNOWN_ADDRESS}",
                       token=account.token)
    assert_problem(resp, 404, "not-found")


def test_at_most_20_addresses(server):
    account = server.register_customer()
    for i in range(20):
        resp = server.call("POST", f"/api/v1/customers/{account.id}/addresses",
                           dict(ADDRESS, label=f"Address {i}"), token=account.token)
        assert resp.status == 201, f"address {i}: {describe(resp)}"
    over = server.call("POST", f"/api/v1/customers/{account.id}/addresses",
                       dict(ADDRESS, label="One too many"), token=account.token)
    assert_problem(over, 409, "conflict")
    addresses = server.get_customer(account.id)["addresses"]
    assert len(addresses) == 20
    assert "One too many" not in {a["label"] for a in addresses}


# -- search ----------------------------------------------------------------------------------


def test_operator_searches_by_email(server):
    account = server.register_customer(login=False)
    server.register_customer(login=False)  # noise
    query = urllib.parse.urlencode({"email": account.email})
    resp = server.call("GET", f"/api/v1/customers?{query}", token=server.operator_token())
    body = assert_json(resp, 200)
    assert set(body) == {"data", "next_cursor"}
    assert body["data"] == [account.customer]
    assert body["next_cursor"] is None


def test_search_by_email_is_case_insensitive(server):
    account = server.register_customer(login=False)
    query = urllib.parse.urlencode({"email": account.email.upper()})
    resp = server.call("GET", f"/api/v1/customers?{query}", token=server.operator_token())
    assert assert_json(resp, 200) == {"data": [account.customer], "next_cursor": None}


def test_search_for_unknown_email_is_empty(server):
    query = urllib.parse.urlencode({"email": unique_email("nobody")})
    resp = server.call("GET", f"/api/v1/customers?{query}", token=server.operator_token())
    assert assert_json(resp, 200) == {"data": [], "next_cursor": None}


@pytest.mark.storage
def test_list_is_newest_first_with_cursor(server):
    first = server.register_customer(login=False)
    second = server.register_customer(login=False)
    third = server.register_customer(login=False)
    op = server.operator_token()
    page1 = assert_json(server.call("GET", "/api/v1/customers?limit=2", token=op), 200)
    assert [c["id"] for c in page1["data"]] == [third.id, second.id]
    assert isinstance(page1["next_cursor"], str) and page1["next_cursor"]
    query = urllib.parse.urlencode({"limit": 2, "cursor": page1["next_cursor"]})
    page2 = assert_json(server.call("GET", f"/api/v1/customers?{query}", token=op), 200)
    assert page2["data"], page2
    assert page2["data"][0]["id"] == first.id
    seen = [c["id"] for c in page1["data"] + page2["data"]]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5"])
def test_list_rejects_bad_limit(server, limit):
    resp = server.call("GET", f"/api/v1/customers?limit={limit}", token=server.operator_token())
    body = assert_problem(resp, 400, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["limit"]


@pytest.mark.parametrize("limit", ["1", "200"])
def test_list_accepts_limit_bounds(server, limit):
    resp = server.call("GET", f"/api/v1/customers?limit={limit}", token=server.operator_token())
    body = assert_json(resp, 200)
    assert len(body["data"]) <= int(limit)


def test_customer_cannot_search(server):
    account = server.register_customer()
    query = urllib.parse.urlencode({"email": account.email})
    resp = server.call("GET", f"/api/v1/customers?{query}", token=account.token)
    assert_problem(resp, 403, "forbidden")


# -- status ----------------------------------------------------------------------------------


def test_operator_suspends_and_reactivates(server):
    account = server.register_customer(login=False)
    op = server.operator_token()
    base = f"/api/v1/customers/{account.id}"

    suspended = server.call("POST", f"{base}/suspend", token=op)
    body = assert_json(suspended, 200)
    assert_customer(body)
    assert body["status"] == "suspended"
    assert server.get_customer(account.id)["status"] == "suspended"

    again = server.call("POST", f"{base}/suspend", token=op)
    assert_problem(again, 409, "conflict")
    assert server.get_customer(account.id) == body

    reactivated = server.call("POST", f"{base}/reactivate", token=op)
    body = assert_json(reactivated, 200)
    assert body["status"] == "active"
    assert server.get_customer(account.id)["status"] == "active"

    again = server.call("POST", f"{base}/reactivate", token=op)
    assert_problem(again, 409, "conflict")
    assert server.get_customer(account.id) == body


def test_suspend_unknown_customer_is_404(server):
    resp = server.call("POST", f"/api/v1/customers/{UNKNOWN_CUSTOMER}/suspend",
                       token=server.operator_token())
    assert_problem(resp, 404, "not-found")


@pytest.mark.parametrize("action", ["suspend", "reactivate"])
def test_customer_cannot_change_status(server, action):
    account = server.register_customer()
    if action == "reactivate":
        resp = server.call("POST", f"/api/v1/customers/{account.id}/suspend",
                           token=server.operator_token())
        assert resp.status == 200, describe(resp)
    before = server.get_customer(account.id)
    resp = server.call("POST", f"/api/v1/customers/{account.id}/{action}", token=account.token)
    # A suspended customer's token no longer works at all (issue 11); an active one's may not.
    assert_problem(resp, 401 if action == "reactivate" else 403)
    assert server.get_customer(account.id) == before


def test_validation_error_names_field_on_register(server):
    # One representative here; the full matrix lives in test_rejections.py.
    resp = server.call("POST", "/api/v1/customers",
                       {"email": "not-an-email", "password": strong_password(), "name": "X"})
    assert_field_error(resp, "email")


def test_malformed_query_escape_is_a_400_not_an_unfiltered_list(server):
    resp = server.call("GET", "/api/v1/customers?email=someone%40example.com&junk=%zz",
                       token=server.operator_token())
    assert_problem(resp, 400, "bad-request")
