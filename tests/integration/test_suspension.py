"""A suspended account loses its access (issue 11): no new tokens by password or refresh, its
refresh tokens revoked, its access tokens refused at once by the process that suspended it and
everywhere within the access token lifetime (ADR 0021). Reactivation gives access back to new
logins only."""
import time

import pytest

from conftest import (assert_bearer_challenge, assert_json, assert_problem, in_split, postgres_only, single_process,
                      wait_for)


def suspend(server, account):
    assert_json(server.call("POST", f"/api/v1/customers/{account.id}/suspend", token=server.operator_token()), 200)


def add_address(server, account, token):
    return server.call("POST", f"/api/v1/customers/{account.id}/addresses",
                       {"label": "Home", "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013",
                        "country": "ES"}, token=token)


def refuses_login(server, account):
    resp = server.token_request({"grant_type": "password", "username": account.email, "password": account.password})
    assert resp.status == 400, resp
    assert resp.body["error"] == "invalid_grant"
    assert "suspended" in resp.body["error_description"]


def test_a_suspended_account_gets_no_tokens_and_its_refresh_tokens_are_revoked(server):
    account = server.register_customer()
    refresh = account.tokens["refresh_token"]
    suspend(server, account)
    refuses_login(server, account)
    resp = server.token_request({"grant_type": "refresh_token", "refresh_token": refresh})
    assert resp.status == 400 and resp.body["error"] == "invalid_grant", resp
    # A wrong password still says only that the credentials are wrong: suspension is not revealed.
    wrong = server.token_request({"grant_type": "password", "username": account.email, "password": "not it at all"})
    assert wrong.status == 400 and "suspended" not in wrong.body["error_description"]


def test_its_access_tokens_stop_working_and_nothing_changes(server):
    account = server.register_customer()
    suspend(server, account)
    resp = add_address(server, account, account.token)
    assert_problem(resp, 401)
    assert_bearer_challenge(resp, invalid_token=True)
    assert server.get_customer(account.id)["addresses"] == []


@pytest.mark.remote
def test_every_module_refuses_them(server):
    """In one process at once; in the split shape, the processes without customers ask it for
    suspensions every 5 s (ADR 0021), so orders and incidents refuse the token within seconds."""
    account = server.register_customer()
    assert_json(server.call("GET", "/api/v1/orders", token=account.token), 200)
    suspend(server, account)
    incident = {"order_id": "ord_01JD3ZZZZZZZZZZZZZZZZZZZZZ", "type": "damaged", "description": "dented"}

    def refused() -> bool:
        orders = server.call("GET", "/api/v1/orders", token=account.token)
        incidents = server.call("POST", "/api/v1/incidents", incident, token=account.token)
        return orders.status == 401 and incidents.status == 401

    wait_for(refused, 15 if in_split() else 0.5, "orders and incidents to refuse the suspended account's token",
             interval_s=0.25)
    assert_problem(server.call("GET", "/api/v1/orders", token=account.token), 401)


def test_reactivation_lets_new_logins_in_but_not_old_tokens(server):
    account = server.register_customer()
    old = account.tokens
    suspend(server, account)
    assert_json(server.call("POST", f"/api/v1/customers/{account.id}/reactivate", token=server.operator_token()), 200)
    # Token times are whole seconds: a token of the suspension's own second counts as older.
    time.sleep(1.1)
    fresh = server.login(account.email, account.password)
    assert_json(add_address(server, account, fresh["access_token"]), 201)
    assert_problem(add_address(server, account, old["access_token"]), 401)
    resp = server.token_request({"grant_type": "refresh_token", "refresh_token": old["refresh_token"]})
    assert resp.status == 400 and resp.body["error"] == "invalid_grant"


@pytest.mark.replicas
@postgres_only
@single_process
def test_another_replica_refuses_the_tokens_within_seconds(make_server):
    """Each process running customers looks for new suspensions every 5 s (ADR 0021), so a
    replica that did not suspend the account refuses its tokens soon after, without a restart."""
    first = make_server()
    second = make_server(replica_of=first)
    account = first.register_customer()
    assert_json(add_address(second, account, account.token), 201)
    suspend(first, account)
    wait_for(lambda: second.call("GET", f"/api/v1/customers/{account.id}", token=account.token).status == 401, 15,
             "the other replica to refuse the suspended account's token")
