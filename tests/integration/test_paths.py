"""Paths whose meaning depends on decoding or normalising are refused before routing (issue 11):
a proxy that routes by the normalised path and forwards the raw one must not be able to carry a
request to a route it never exposed (such as /internal/). In every shape: through the gateway in
the split shape, where nginx refuses them too."""
import pytest

from conftest import assert_problem

pytestmark = pytest.mark.gateway

HOSTILE = [
    "/internal/v1/customers/..%2F..%2F..%2Fapi%2Fv1%2Fcustomers",
    "/api/v1/orders/..%2f..%2finternal%2fv1%2forders",
    "/api/v1/orders/%2e%2e/%2e%2e/internal/v1/orders",
    "/api/v1/orders/%2E%2E/customers",
    "/api/v1/customers/%2e",
    "/api/v1/orders/ord_01JD3ZZZZZZZZZZZZZZZZZZZZZ%2Fcancel",
    "/api/v1/customers/..",
    "/api/v1/customers/./x",
    "/api/v1/customers/../internal/v1/customers",
    "/api/v1/customers/x%5c..%5cinternal",
    "/api/v1/customers/x\\..\\internal",
]


@pytest.mark.parametrize("path", HOSTILE)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_encoded_separators_and_dot_segments_are_400(server, path, method):
    resp = server.call(method, path, {} if method == "POST" else None, token=server.operator_token())
    assert_problem(resp, 400, "bad-request")


def test_ordinary_paths_still_work(server):
    # Dots inside a segment and encoded characters other than the refused ones are fine.
    assert server.call("GET", "/.well-known/jwks.json").status == 200
    assert_problem(server.call("GET", "/api/v1/customers/cus%5F1", token=server.operator_token()), 404)


def test_trace_is_a_405_problem(server):
    # The gateway (nginx) refuses TRACE before routing; one process answers from its router.
    resp = server.call("TRACE", "/api/v1/orders", token=server.operator_token())
    assert_problem(resp, 405, "method-not-allowed")
    assert resp.headers.get("allow")
