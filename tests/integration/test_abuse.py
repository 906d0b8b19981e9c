"""Hostile clients cannot hurt others (issue 11): registrations limited per address, oversized
logins refused before any lookup, and no error reply parked for replay by an anonymous caller."""
import json
import sqlite3
import time
import uuid

import pytest

from conftest import (assert_json, assert_problem, in_split, single_process, sqlite_only, strong_password,
                      unique_email)


def register(server, email=None, headers=None):
    return server.call("POST", "/api/v1/customers", {"email": email or unique_email("abuse"),
                                                     "password": strong_password(), "name": "A"},
                       headers=headers)


@pytest.mark.gateway
def test_registrations_are_limited_per_address(make_server):
    server = make_server(extra_args=["--registrations-per-address", "3"])
    taken = unique_email("taken")
    assert_json(register(server, taken), 201)
    assert_problem(register(server, taken), 409)  # a taken email counts too: probing costs the same
    assert_json(register(server), 201)
    email = unique_email("fourth")
    refused = assert_problem(register(server, email), 429, "too-many-requests")
    assert int(server.call("POST", "/api/v1/customers", {}).headers.get("retry-after", "0")) > 0
    assert server.search_by_email(email) == []
    # Everything else still works for that address.
    assert server.call("GET", "/.well-known/jwks.json").status == 200
    assert refused["detail"]


def test_oversized_login_inputs_are_refused_before_any_lookup(server):
    started = time.monotonic()
    for username, password in (("a" * 100_000 + "@example.com", "x"), ("ops@example.com", "p" * 600)):
        resp = server.token_request({"grant_type": "password", "username": username, "password": password})
        assert resp.status == 400 and resp.body["error"] == "invalid_grant", resp
    assert time.monotonic() - started < 5
    # A real account still logs in: the oversized attempts were not counted against anyone.
    customer = server.register_customer()
    assert server.login(customer.email, customer.password)["access_token"]


# shape-neutral: an anonymous caller's 400 is never stored, so the key reaches no database on any backend
def test_a_huge_validation_reply_is_capped_and_never_stored_for_anonymous_callers(server):
    body = {f"unknown_{i}": i for i in range(5000)}
    key = uuid.uuid4().hex
    first = server.call("POST", "/api/v1/customers", body, headers={"Idempotency-Key": key})
    problem = assert_problem(first, 400)
    assert len(problem["errors"]) == 20 and problem["error_count"] > 5000
    assert len(json.dumps(problem)) < 8192
    again = server.call("POST", "/api/v1/customers", body, headers={"Idempotency-Key": key})
    assert_problem(again, 400)
    assert "idempotent-replayed" not in again.headers


@sqlite_only
def test_anonymous_errors_leave_nothing_in_the_database(make_server):
    server = make_server()
    for _ in range(5):
        body = {f"f{i}": "x" * 10 for i in range(3000)}
        assert_problem(server.call("POST", "/api/v1/customers", body, headers={"Idempotency-Key": uuid.uuid4().hex}),
                       400)
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        assert db.execute("SELECT COUNT(*) FROM core_idempotency").fetchone()[0] == 0


@single_process
def test_answers_given_before_routing_echo_the_request_id_and_speak_oauth_on_the_token_endpoint(server):
    """A body over 1 MiB is refused while reading, before any route runs: the answer still
    carries the client's X-Request-Id, and on /oauth/token it has RFC 6749's `error` too.
    (The gateway answers its own 413 in the split shape.)"""
    for path, oauth in (("/oauth/token", True), ("/api/v1/customers", False)):
        head = server.request_head("POST", path, {"Content-Type": "application/json",
                                                  "Content-Length": str(2 * 1024 * 1024),
                                                  "X-Request-Id": "pre-route-413"})
        resp = server.raw_exchange(head, [b"{" * 65536], method="POST")
        body = assert_problem(resp, 413)
        assert resp.headers["x-request-id"] == "pre-route-413" and body["request_id"] == "pre-route-413"
        assert (body.get("error") == "invalid_request" and body.get("error_description")) if oauth \
            else "error" not in body


# shape-neutral: the role rule is the customers module's own; in the split shape the request goes to that process
def test_no_module_may_create_an_operator(server):
    """Issue 11: any service token could create operator accounts. Modules create couriers only."""
    module = server.process("customers") if in_split() else server
    email = unique_email("mint")
    body = {"email": email, "password": "operator password", "name": "Mallory", "role": "operator"}
    assert_problem(module.call("POST", "/internal/v1/customers/staff-accounts", body,
                               token=server.service_token()), 403, "forbidden")
    refused = server.token_request({"grant_type": "password", "username": email, "password": "operator password"})
    assert refused.status == 400 and refused.body["error"] == "invalid_grant"
    body["role"] = "courier"
    assert_json(module.call("POST", "/internal/v1/customers/staff-accounts", body, token=server.service_token()), 201)
