"""OWASP API Security Top 10 (2023), item by item, against every operation of docs/openapi.yaml.

A standing adversarial suite: the operations are read from the document, so a new route is
covered by every item that applies to it (one pytest case per item and operationId, or per path
where an item is about paths). Deterministic: fixed requests, no Hypothesis. It runs against the
real binary through the integration harness, in one process, or with DELIVERYHUB_TEST_SPLIT=1
through the split shape's nginx gateway. The random exploration is test_openapi_fuzz.py's; this
file asks each item's precise questions and checks the answers precisely.

A small world is built first: two customers (alice owns everything the attacks aim at, bob is
the other customer), two zones, a product, two couriers (the first carries alice's deliveries,
the second none), a delivered order (payment captured) and a confirmed one (delivery assigned),
two incidents, and tokens of every kind. Writes that must succeed (API3, API7, API8) act on
scratch objects made for them, so the world stays as built.

- API1 BOLA: every operation with a path id of a customer's object, by the other customer (and
  by a courier that is not assigned): 404 as for an unknown id (or the contract's 403 for a role
  it does not admit), the same problem as for an unknown id, nothing of the object in it, nothing
  changed. Lists (with filters and cursors naming alice's things) show bob none of alice's.
  Body members naming alice's objects (address_id, order_id) are refused like unknown ones.
- API2 broken authentication: every operation that needs a token, with no token, other schemes,
  garbage, alg none, HS256 keyed with the public key, another key, a tampered or flipped
  signature, and tokens signed with the real key that are expired, not yet valid, of another
  iss or aud, without exp, of another typ, with crit, or of an unknown kid, and a refresh token:
  401 problem with WWW-Authenticate: Bearer, nothing changed. Two Authorization fields never get
  more than one of them alone.
- API3 broken object property level authorization: every JSON write with each server-owned
  property (id, status, customer_id, amount, version, ...) added: 400 naming it as an unknown
  field, nothing changed; writes without a body ignore one; extra form parameters of the token
  endpoint grant no role or scope. Every successful answer carries no secret (passwords, client
  secret, refresh tokens outside /oauth/token, hashes, private key members) and no member its
  schema does not document.
- API4 unrestricted resource consumption: page sizes bounded (400 beyond), cursors only ours,
  one-page lists ignore limit; a body over 1 MiB is 413 on every operation that takes one;
  every string over its maxLength, list over its maxItems and number over its maximum is 400
  naming the field.
- API5 broken function level authorization: every role the operation's description does not
  admit is refused (403, or the contract's 404), admitted roles get in; method-override headers
  change nothing; every /internal/ route of the code (read from
  src/modules/*/src/internal_routes.cpp) refuses customer, courier and operator tokens (403) and
  is never reachable through the gateway (404, 400 for encoded variants).
- API6 sensitive business flows: what test_abuse.py, test_oauth.py, test_orders.py,
  test_incidents.py and test_cancellation.py do not already show: no price, quantity, refund or
  capacity below its minimum (a sign cannot turn a total or a refund around); a refund over what
  is still refundable (after a partial one) and a refund of an uncaptured payment are refused; a
  delivery cannot skip its pick-up to get the payment captured.
- API7 SSRF: no request schema or parameter takes a URL; URLs in every free-text member and in
  the usual URL-bearing headers are never fetched (a listener counts connections).
- API8 security misconfiguration: successful answers carry the headers the document promises
  (X-Request-Id, ETag, Location as a relative path, Cache-Control: no-store on tokens); no CORS
  grant; TRACE and unknown methods are 405 problems; errors reveal no stack, SQL, file path or
  server version; Location and metadata ignore Host and X-Forwarded-Host.
- API9 improper inventory: every documented operation is served (the operational ones on each
  process, never through the gateway), nothing answers beneath a documented path, probes of
  undocumented paths are 404 problems, and every route the code registers is documented or
  internal.
- API10 unsafe consumption of APIs: tokens naming a key by URL (jku, x5u) or carrying their own
  key (jwk) are refused and the URL is never fetched; the rest is mapped to its tests in
  docs/security.md (test_external_issuer.py, test_process.py, test_amqp.py, tests/split).
"""
from __future__ import annotations

import base64
import dataclasses
import glob
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from typing import Any, Callable

import pytest
import yaml

from deliveryhub_integration_conftest import (MIB, Response, assert_field_error, assert_json, assert_problem,
                                              b64url_decode, b64url_encode, decode_jwt, der_to_raw, describe,
                                              encode_jwt,
                                              error_fields, in_split, media_type, strong_password, unique_email,
                                              wait_for)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "docs", "openapi.yaml"), encoding="utf-8") as _f:
    SPEC: dict = yaml.safe_load(_f)

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = ("customer", "courier", "operator", "service")
ID_RE = re.compile(r"\b[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}\b")
UNKNOWN_ULID = "01JD3ZZZZZZZZZZZZZZZZZZZZZ"
ADDRESS = {"label": "Home", "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013", "country": "ES"}


# --------------------------------------------------------------------------------------------
# the document


def deref(node: Any) -> Any:
    """Follows local $refs ('#/a/b') until a node without one."""
    for _ in range(20):
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        target: Any = SPEC
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    raise AssertionError("$ref chain too long")


def merged(schema: Any) -> dict:
    """$refs resolved and allOf folded into one dict."""
    schema = deref(schema) or {}
    if "allOf" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        for k, v in merged(part).items():
            out.setdefault(k, v)
    return out


def single_branch(schema: dict) -> dict:
    """The one branch of a oneOf/anyOf that is not `null`, or the schema itself."""
    for key in ("oneOf", "anyOf"):
        if key in schema:
            branches = [merged(b) for b in schema[key] if merged(b).get("type") != "null"]
            if len(branches) == 1:
                return branches[0]
    return schema


@dataclasses.dataclass(frozen=True)
class Op:
    op_id: str
    method: str
    path: str
    params: tuple
    body: dict | None  # requestBody.content
    body_required: bool
    responses: dict
    public: bool
    description: str
    tags: tuple

    def __repr__(self) -> str:
        return self.op_id

    @property
    def kinds(self) -> dict[str, str]:
        """Path parameter name -> id kind (the schema it refers to: CustomerId, OrderId, ...)."""
        out = {}
        for p in self.params:
            if p["in"] == "path":
                out[p["name"]] = p["schema"].get("$ref", "").rsplit("/", 1)[-1] or p["name"]
        return out

    @property
    def query(self) -> dict[str, dict]:
        return {p["name"]: p for p in self.params if p["in"] == "query"}

    @property
    def json_schema(self) -> dict | None:
        if self.body and "application/json" in self.body:
            return self.body["application/json"]["schema"]
        return None

    @property
    def form(self) -> bool:
        return bool(self.body) and "application/x-www-form-urlencoded" in self.body

    def response(self, status: int) -> dict | None:
        found = self.responses.get(str(status))
        return deref(found) if found is not None else None

    @property
    def operational(self) -> bool:
        return "operations" in self.tags

    @property
    def lists(self) -> bool:
        """A GET answering {data: [...], next_cursor}."""
        ok = self.response(200)
        schema = ((ok or {}).get("content", {}).get("application/json") or {}).get("schema")
        return self.method == "GET" and schema is not None and \
            merged(merged(schema).get("properties", {}).get("data", {})).get("type") == "array"


def operations() -> list[Op]:
    ops = []
    for path, item in SPEC["paths"].items():
        shared = [deref(p) for p in item.get("parameters", [])]
        for method, op in item.items():
            if method not in METHODS:
                continue
            body = deref(op["requestBody"]) if "requestBody" in op else None
            security = op.get("security", SPEC.get("security", []))
            ops.append(Op(op_id=op["operationId"], method=method.upper(), path=path,
                          params=tuple(shared + [deref(p) for p in op.get("parameters", [])]),
                          body=body["content"] if body else None, body_required=bool(body and body.get("required")),
                          responses=op["responses"], public=(security == [] or {} in security),
                          description=op.get("description") or "", tags=tuple(op.get("tags", []))))
    return ops


ALL_OPERATIONS = operations()
# Pages, stylesheets, scripts and redirects for browsers (the sign-in page, the console): their
# properties are checked by tests/integration/test_browser_sign_in.py and the browser tests. Here
# they take part in the inventory (API9) only; everything else below is about the JSON API.
BROWSER_FLOW = {"showSignIn", "signIn", "getSignInStylesheet", "redirectToConsole", "getConsole", "getConsoleFile",
                "getConsoleFileInFolder"}
OPERATIONS = [op for op in ALL_OPERATIONS if op.op_id not in BROWSER_FLOW]
BY_ID = {op.op_id: op for op in ALL_OPERATIONS}
PATHS = sorted({op.path for op in ALL_OPERATIONS})


def admitted_roles(op: Op) -> frozenset[str]:
    """Who may call a secured operation, from the first clause of its description ("Operators
    only", "The customer themself or an operator", "Any valid token", ...)."""
    first = re.split(r"[.;]", op.description.strip(), maxsplit=1)[0].lower()
    if "any valid token" in first:
        return frozenset(ROLES)
    return frozenset(role for role in ("customer", "courier", "operator") if role in first)


def denial_status(op: Op) -> int:
    """What a role the operation does not admit gets: 403, unless the description says that
    anyone else gets 404."""
    return 404 if re.search(r"anyone else\b[^.]*?→\s*404", op.description, re.IGNORECASE) else 403


def token_query(op: Op) -> list[tuple[str, str]]:
    """Query parameters that turn a public operation into one for operators (`include_inactive`:
    "`true` (operators only)")."""
    out = []
    for name, param in op.query.items():
        schema = merged(param.get("schema", {}))
        if "operators only" in (param.get("description") or "").lower() and schema.get("enum"):
            out.append((name, schema["enum"][0]))
    return out


@dataclasses.dataclass(frozen=True)
class Case:
    """An operation as a caller meets it: the operation and the query that selects its access rules."""
    op: Op
    query: tuple = ()

    @property
    def name(self) -> str:
        return self.op.op_id + "".join(f"[{k}={v}]" for k, v in self.query)

    @property
    def admitted(self) -> frozenset[str]:
        return frozenset({"operator"}) if self.query else admitted_roles(self.op)


SECURED = [Case(op) for op in OPERATIONS if not op.public] + \
          [Case(op, tuple(token_query(op))) for op in OPERATIONS if op.public and token_query(op)]
OWNED_KINDS = ("CustomerId", "AddressId", "OrderId", "PaymentId", "DeliveryId", "IncidentId")
BOLA_OPS = [op for op in OPERATIONS if set(op.kinds.values()) & set(OWNED_KINDS)]
LIST_OPS = [op for op in OPERATIONS if op.lists]
PAGED_OPS = [op for op in LIST_OPS if "limit" in op.query]
ONE_PAGE_OPS = [op for op in LIST_OPS if "limit" not in op.query]
BODY_OPS = [op for op in OPERATIONS if op.body]
JSON_WRITES = [op for op in OPERATIONS if op.json_schema is not None]
BODYLESS_WRITES = [op for op in OPERATIONS if op.method in WRITES and not op.body]
# Body members that name a customer's object by id.
REFERENCES = {"address_id": "AddressId", "order_id": "OrderId"}


def properties(schema: Any) -> dict[str, Any]:
    """Every member an object schema declares, over allOf, oneOf and anyOf branches."""
    schema = merged(schema)
    props = dict(schema.get("properties", {}))
    for key in ("oneOf", "anyOf"):
        for branch in schema.get(key, []):
            props.update(properties(branch))
    return props


def marked(ops: list, findings: dict[str, str]) -> list:
    """ops, those named in findings as strict xfails with the finding as the reason."""
    return [pytest.param(op, marks=pytest.mark.xfail(strict=True, reason=findings[op.op_id]))
            if op.op_id in findings else op for op in ops]


def ids(cases) -> list[str]:
    return [c.name if isinstance(c, Case) else c.op_id if isinstance(c, Op) else str(c) for c in cases]


# --------------------------------------------------------------------------------------------
# tokens: signing with the deployment's key (openssl, as test_external_issuer.py does)


def es256(key_path: str, header: dict, claims: dict) -> str:
    signing_input = b64url_encode(json.dumps(header).encode()) + "." + b64url_encode(json.dumps(claims).encode())
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path], input=signing_input.encode(),
                         check=True, capture_output=True, timeout=30).stdout
    return signing_input + "." + b64url_encode(der_to_raw(der))


def hs256(header: dict, claims: dict, key: bytes) -> str:
    unsigned = encode_jwt(header, claims)[:-1]
    return unsigned + "." + b64url_encode(hmac.new(key, unsigned.encode(), hashlib.sha256).digest())


def new_p256_key(folder: str, kid: str) -> tuple[str, dict]:
    path = os.path.join(folder, f"{kid}.pem")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path], check=True,
                   capture_output=True, timeout=30)
    der = subprocess.run(["openssl", "ec", "-in", path, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True, timeout=30).stdout
    point = der[-65:]
    return path, {"kty": "EC", "crv": "P-256", "x": b64url_encode(point[1:33]), "y": b64url_encode(point[33:]),
                  "kid": kid, "alg": "ES256", "use": "sig"}


def signing_key_file(srv) -> str:
    """The development signing key the process (or the split shape's customers process) made."""
    candidates = []
    if hasattr(srv, "signing_key_path"):
        candidates.append(srv.signing_key_path())
    if getattr(srv, "dir", None):
        candidates.append(os.path.join(srv.dir, "customers", "data", "jwt-signing-key.pem"))
    for path in candidates:
        if os.path.isfile(path):
            return path
    pytest.fail(f"no development signing key at {candidates}")


# --------------------------------------------------------------------------------------------
# a listener that counts connections (SSRF, jku): it answers any request with a JWK Set


class Listener:
    def __init__(self, jwks: dict) -> None:
        self.body = json.dumps(jwks).encode()
        self.hits: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/x") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = "?"
                self.hits.append(first)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                                 b"Connection: close\r\n\r\n%s" % (len(self.body), self.body))
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


# --------------------------------------------------------------------------------------------
# requests


@dataclasses.dataclass
class Prepared:
    method: str
    path: str
    query: list = dataclasses.field(default_factory=list)
    body: Any = None                 # a JSON value, or bytes sent as they are
    content_type: str | None = None
    authorization: str | None = None
    headers: dict = dataclasses.field(default_factory=dict)
    caller: str = ""

    def target(self) -> str:
        if not self.query:
            return self.path
        return self.path + "?" + urllib.parse.urlencode(self.query, quote_via=urllib.parse.quote)

    def payload(self) -> bytes | None:
        if self.body is None:
            return None
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()

    def __str__(self) -> str:
        raw = self.payload() or b""
        shown = raw[:400] + (b"...(%d bytes)" % len(raw) if len(raw) > 400 else b"")
        auth = (self.authorization or "")[:60]
        return (f"{self.method} {self.target()[:300]} caller={self.caller} auth={auth!r} headers={self.headers} "
                f"body={shown!r}")


def send(srv, req: Prepared) -> Response:
    headers = dict(req.headers)
    if req.authorization is not None:
        headers["Authorization"] = req.authorization
    return srv.call(req.method, req.target(), raw=req.payload(), content_type=req.content_type, headers=headers)


def report(req: Prepared, resp: Response) -> str:
    return f"{req}\n-> {describe(resp)}"


# --------------------------------------------------------------------------------------------
# the world


class World:
    def __init__(self, server) -> None:
        self.server = server
        self.tag = uuid.uuid4().hex[:8]
        self.secrets: set[str] = set()         # passwords and client secrets
        self.refresh_tokens: set[str] = set()
        self.happy_cache: dict[str, list[tuple[Prepared, Response]]] = {}
        self._scratch: dict | None = None
        self._prefix = 0
        self.last: dict | None = None  # the state the last check saw

    # -- building -------------------------------------------------------------------------

    @property
    def operator(self) -> str:
        return self.server.operator_token()

    def register(self, name: str, phone: str | None = None):
        account = self.server.register_customer(name=name, phone=phone)
        self.secrets.add(account.password)
        self.refresh_tokens.add(account.tokens["refresh_token"])
        return account

    def add_address(self, account, line1: str = "Calle Mayor 1", postal_code: str = "28013") -> dict:
        return assert_json(self.server.call("POST", f"/api/v1/customers/{account.id}/addresses",
                                            dict(ADDRESS, line1=line1, postal_code=postal_code),
                                            token=account.token), 201)

    def build(self) -> "World":
        srv, op = self.server, self.operator
        self.secrets |= {srv.operator_password, srv.client_secret}
        self.alice = self.register(f"Alice Owasp {self.tag}", phone="600111222")
        self.bob = self.register(f"Bob Owasp {self.tag}")
        self.zone = assert_json(srv.call("POST", "/api/v1/zones", {"name": "Owasp centre", "postal_prefixes": ["28"]},
                                         token=op), 201)
        self.far_zone = assert_json(srv.call("POST", "/api/v1/zones", {"name": "Owasp far", "postal_prefixes": ["08"]},
                                             token=op), 201)
        self.sku = "OWASP-" + self.tag.upper()
        self.product = assert_json(srv.call("POST", "/api/v1/catalog/products",
                                            {"sku": self.sku, "name": "Owasp pizza", "price": 1250, "currency": "EUR"},
                                            token=op), 201)
        self.courier, self.courier_token = self.new_courier(self.zone, 50)
        self.far_courier, self.far_courier_token = self.new_courier(self.far_zone, 5)
        self.service_token = srv.service_token()
        self.alice_address = self.add_address(self.alice, f"Calle Secreta {self.tag}")
        self.bob_address = self.add_address(self.bob, "Calle de Bob 2", "28014")
        self.delivered = self.confirmed_order(self.alice, self.alice_address["id"])
        for status in ("picked_up", "delivered"):
            self.report(self.delivered["delivery_id"], status)
        self.payment_becomes(self.delivered["payment_id"], "captured")
        self.confirmed = self.confirmed_order(self.alice, self.alice_address["id"])
        self.incident = self.open_incident(self.alice, self.delivered["id"], f"Alice's private complaint {self.tag}")
        self.second_incident = self.open_incident(self.alice, self.confirmed["id"], f"Alice's late order {self.tag}")
        self.alice_markers = self._markers()
        return self

    def new_courier(self, zone: dict, capacity: int) -> tuple[dict, str]:
        email, password = unique_email("owasp-courier"), "courier password " + uuid.uuid4().hex[:6]
        self.secrets.add(password)
        courier = assert_json(self.server.call("POST", "/api/v1/couriers",
                                               {"name": "Owasp courier", "email": email, "password": password,
                                                "zone_id": zone["id"], "capacity": capacity},
                                               token=self.operator), 201)
        tokens = self.server.login(email, password)
        self.refresh_tokens.add(tokens["refresh_token"])
        return courier, tokens["access_token"]

    def report(self, delivery_id: str, status: str) -> None:
        assert_json(self.server.call("POST", f"/api/v1/deliveries/{delivery_id}/events", {"status": status},
                                     token=self.courier_token), 201)

    def payment_becomes(self, payment_id: str, status: str) -> dict:
        def reached():
            payment = assert_json(self.server.call("GET", f"/api/v1/payments/{payment_id}", token=self.operator), 200)
            return payment if payment["status"] == status else None
        return wait_for(reached, 20, f"payment {payment_id} to become {status}")

    def place(self, account, address_id: str) -> dict:
        return assert_json(self.server.call("POST", "/api/v1/orders",
                                            {"items": [{"sku": self.sku, "quantity": 2}], "address_id": address_id,
                                             "payment_method": "tok_visa"}, token=account.token), 201)

    def confirmed_order(self, account, address_id: str) -> dict:
        order = self.place(account, address_id)

        def confirmed():
            now = assert_json(self.server.call("GET", f"/api/v1/orders/{order['id']}", token=self.operator), 200)
            return now if now["status"] == "confirmed" else None
        return wait_for(confirmed, 20, f"order {order['id']} to be confirmed")

    def open_incident(self, account, order_id: str, description: str = "Where is it?") -> dict:
        return assert_json(self.server.call("POST", "/api/v1/incidents",
                                            {"order_id": order_id, "type": "damaged", "description": description},
                                            token=account.token), 201)

    def _markers(self) -> dict[str, str]:
        """What of alice's must never reach anyone else: value -> what it is."""
        a = self.alice
        out = {a.id: "alice's id", a.email: "alice's email", a.customer["name"]: "alice's name",
               "600111222": "alice's phone", self.alice_address["id"]: "alice's address id",
               self.alice_address["line1"]: "alice's street",
               self.incident["description"]: "alice's complaint",
               self.second_incident["description"]: "alice's second complaint",
               self.incident["id"]: "alice's incident", self.second_incident["id"]: "alice's second incident"}
        for name, order in (("delivered", self.delivered), ("confirmed", self.confirmed)):
            for key in ("id", "payment_id", "delivery_id"):
                out[order[key]] = f"alice's {name} order's {key}"
        return out

    def leaks(self, req: Prepared, resp: Response) -> list[str]:
        """alice's things in an answer, other than those the request itself named."""
        sent = req.target() + (req.payload() or b"").decode("utf-8", "replace")
        return [f"{what} ({value})" for value, what in self.alice_markers.items()
                if value not in sent and value.encode() in resp.raw]

    # -- callers and targets --------------------------------------------------------------

    def authorization(self, caller: str) -> str | None:
        token = {"customer": self.alice.token, "other_customer": self.bob.token, "courier": self.courier_token,
                 "other_courier": self.far_courier_token, "operator": self.operator,
                 "service": self.service_token}.get(caller)
        return None if token is None else f"Bearer {token}"

    def target_ids(self) -> dict[str, str]:
        return {"CustomerId": self.alice.id, "AddressId": self.alice_address["id"], "OrderId": self.confirmed["id"],
                "PaymentId": self.delivered["payment_id"], "DeliveryId": self.confirmed["delivery_id"],
                "IncidentId": self.incident["id"], "ProductId": self.product["id"],
                "CourierId": self.courier["id"], "ZoneId": self.zone["id"],
                "ConsoleFileName": "app.js", "ConsoleFolderName": "views", "ConsoleNestedFileName": "orders.js"}

    def unknown_ids(self) -> dict[str, str]:
        out = {}
        for kind, value in self.target_ids().items():
            out[kind] = value[:4] + UNKNOWN_ULID
        return out

    def path(self, op: Op, ids: dict[str, str] | None = None) -> str:
        values = dict(self.target_ids(), **(ids or {}))
        path = op.path
        for name, kind in op.kinds.items():
            if kind not in values:
                pytest.fail(f"{op.op_id}: no id of kind {kind!r} in the world (add one to World.target_ids)")
            path = path.replace("{" + name + "}", urllib.parse.quote(values[kind], safe=""))
        return path

    def hints(self) -> dict[str, Any]:
        return {"sku": self.sku, "address_id": self.alice_address["id"], "order_id": self.confirmed["id"],
                "zone_id": self.zone["id"], "customer_id": self.alice.id, "payment_method": "tok_visa",
                "country": "ES", "currency": "EUR", "postal_code": "28013", "phone": "600000000",
                "password": "correct horse battery staple"}

    def required_query(self, op: Op) -> list[tuple[str, str]]:
        out = []
        for name, param in op.query.items():
            if param.get("required"):
                value = self.hints().get(name)
                out.append((name, str(value if value is not None else example(param["schema"], name, self))))
        return out

    def body(self, op: Op) -> Any:
        """A valid body for the operation (fresh values where they must be unique)."""
        maker = BODIES.get(op.op_id)
        if maker is not None:
            return maker(self)
        if op.form:
            return {"grant_type": "password", "username": self.alice.email, "password": self.alice.password}
        return example(op.json_schema, None, self) if op.json_schema is not None else None

    def request(self, op: Op, caller: str | None = None, ids: dict[str, str] | None = None,
                body: Any = "default", query: list | None = None) -> Prepared:
        """The operation as `caller` would send it, at the world's targets, with a valid body."""
        if body == "default":
            body = self.body(op) if op.body else None
        content_type = None
        if body is not None:
            if op.form:
                body = urllib.parse.urlencode(body).encode() if isinstance(body, dict) else body
                content_type = "application/x-www-form-urlencoded"
            else:
                content_type = "application/json"
        return Prepared(op.method, self.path(op, ids), list(self.required_query(op) if query is None else query),
                        body, content_type, self.authorization(caller) if caller else None, {}, caller or "anonymous")

    def best_caller(self, case: Case) -> str | None:
        """An admitted caller, the most privileged first (anonymous for a public operation)."""
        if case.op.public and not case.query:
            return None
        for caller in ("operator", "customer", "courier", "service"):
            if caller in case.admitted:
                return caller
        pytest.fail(f"{case.name}: its description names no role that may call it")

    # -- what an operator can see -----------------------------------------------------------

    LISTS = (("customers", "/api/v1/customers?limit=200"), ("orders", "/api/v1/orders?limit=200"),
             ("zones", "/api/v1/zones?limit=200"), ("couriers", "/api/v1/couriers?limit=200"),
             ("products", "/api/v1/catalog/products?include_inactive=true&limit=200"),
             ("incidents", "/api/v1/incidents?limit=200"))

    def snapshot(self) -> dict:
        srv, token, state = self.server, self.operator, {}
        for name, path in self.LISTS:
            records, url = {}, path
            for _ in range(50):
                page = assert_json(srv.call("GET", url, token=token), 200)
                records.update({r["id"]: json.dumps(r, sort_keys=True) for r in page["data"]})
                if not page["next_cursor"]:
                    break
                url = f"{path}&cursor={urllib.parse.quote(page['next_cursor'], safe='')}"
            state[name] = records
        for order in (self.delivered, self.confirmed):
            for key, base in (("payment_id", "/api/v1/payments/"), ("delivery_id", "/api/v1/deliveries/")):
                resp = srv.call("GET", base + order[key], token=token)
                state.setdefault(key, {})[order[key]] = json.dumps([resp.status, resp.body], sort_keys=True)
        return state

    def settled(self) -> dict:
        """The state once background work (sagas, events) has settled: as the last check left it,
        or else two snapshots in a row that agree."""
        current = self.snapshot()
        if current != self.last:
            previous = None
            for _ in range(50):
                if current == previous:
                    break
                time.sleep(0.1)
                previous, current = current, self.snapshot()
        self.last = current
        return current

    def assert_unchanged(self, before: dict | None, what: str) -> None:
        if before is None:
            return
        after = self.snapshot()
        self.last = after
        assert after == before, f"{what} changed what an operator sees:\n{state_diff(before, after)}"

    # -- scratch objects for writes that must succeed ----------------------------------------

    def scratch(self) -> dict:
        """carol, a customer of her own with an address, a confirmed order and an incident; made
        once, for requests that change nothing of the world's."""
        if self._scratch is None:
            carol = self.register("Carol Scratch")
            address = self.add_address(carol, "Calle Carol 3", "28015")
            order = self.confirmed_order(carol, address["id"])
            self._scratch = {"carol": carol, "address": address, "order": order,
                             "incident": self.open_incident(carol, order["id"])}
        return self._scratch

    def fresh_prefix(self) -> str:
        self._prefix += 1
        return f"7{self.tag[:3].upper()}{self._prefix}"


def state_diff(before: dict, after: dict) -> str:
    out = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, {}), after.get(name, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append(f"{name}/{key}: {str(b.get(key))[:400]} -> {str(a.get(key))[:400]}")
    return "\n".join(out[:10])


def example(schema: Any, name: str | None, world: World) -> Any:
    """A valid value for a schema (for operations BODIES does not know yet)."""
    hints = world.hints()
    if name in hints:
        return hints[name]
    s = single_branch(merged(schema))
    if "const" in s:
        return s["const"]
    if s.get("enum"):
        return s["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in s:
            return example(s[key][0], name, world)
    kind = s.get("type")
    if isinstance(kind, list):
        kind = [k for k in kind if k != "null"][0]
    if kind == "object" or "properties" in s:
        return {k: example(v, k, world) for k, v in s.get("properties", {}).items() if k in s.get("required", [])}
    if kind == "array":
        return [example(s.get("items", {}), None, world) for _ in range(max(1, s.get("minItems", 1)))]
    if kind == "integer":
        return max(1, s.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if s.get("examples"):
        return s["examples"][0]
    if s.get("format") == "email":
        return unique_email("owasp")
    return "Owasp " + "x" * max(0, s.get("minLength", 1) - 6)


# Valid bodies, where the document's examples would not do (unique values, the world's ids, a
# choice among oneOf branches). Any other operation gets one made from its schema.
BODIES: dict[str, Callable[[World], Any]] = {
    "registerCustomer": lambda w: {"email": unique_email("owasp"), "password": strong_password(),
                                   "name": "Owasp Newcomer"},
    "updateCustomer": lambda w: {"name": "Owasp Renamed"},
    "addAddress": lambda w: dict(ADDRESS, line1="Calle Nueva 1"),
    "createProduct": lambda w: {"sku": "OWASP-" + uuid.uuid4().hex[:8].upper(), "name": "Owasp pasta",
                                "price": 999, "currency": "EUR"},
    "updateProduct": lambda w: {"name": "Owasp pizza, renamed"},
    "placeOrder": lambda w: {"items": [{"sku": w.sku, "quantity": 1}], "address_id": w.alice_address["id"],
                             "payment_method": "tok_visa"},
    "cancelOrder": lambda w: {"reason": "Changed my mind"},
    "refundPayment": lambda w: {"amount": 1, "reason": "Goodwill"},
    "createZone": lambda w: {"name": "Owasp zone", "postal_prefixes": [w.fresh_prefix()]},
    "createCourier": lambda w: {"name": "Owasp courier", "email": unique_email("owasp-courier"),
                                "password": "courier password", "zone_id": w.far_zone["id"]},
    "updateCourier": lambda w: {"name": "Owasp courier, renamed"},
    "reportDeliveryEvent": lambda w: {"status": "picked_up"},
    "openIncident": lambda w: {"order_id": w.confirmed["id"], "type": "late", "description": "Where is it?"},
    "addIncidentComment": lambda w: {"body": "Any news?"},
    "resolveIncident": lambda w: {"resolution": "none"},
    "rejectIncident": lambda w: {"reason": "Not our fault"},
}


@pytest.fixture(scope="module")
def world(server):
    return World(server).build()


@pytest.fixture(scope="module")
def listener():
    """A listener that counts connections, serving a JWK Set of an attacker's key (kept in .key)."""
    with tempfile.TemporaryDirectory(prefix="deliveryhub-owasp-") as folder:
        key, jwk = new_p256_key(folder, "attacker-1")
        srv = Listener({"keys": [jwk]})
        srv.key, srv.jwk = key, jwk
        yield srv
        srv.stop()


# --------------------------------------------------------------------------------------------
# API1 broken object level authorization


def intruders(world: World, op: Op) -> list[tuple[str, str]]:
    """(caller, role): the other customer, and for what couriers may touch, the courier that is
    not assigned to alice's deliveries."""
    out = [("other_customer", "customer")]
    if "courier" in admitted_roles(op):
        out.append(("other_courier", "courier"))
    return out


def comparable(body: Any) -> Any:
    """A problem with ids and request ids blanked, to compare one answer with another."""
    if not isinstance(body, dict):
        return body
    return {k: ID_RE.sub("<id>", v) if isinstance(v, str) else v for k, v in body.items() if k != "request_id"}


@pytest.mark.parametrize("op", BOLA_OPS, ids=ids(BOLA_OPS))
def test_api1_another_customers_object_is_answered_as_unknown_and_untouched(world, op):
    srv = world.server
    before = world.settled() if op.method in WRITES else None
    for caller, role in intruders(world, op):
        expected = 404 if role in admitted_roles(op) else denial_status(op)
        variants = [{}]
        if "CustomerId" in op.kinds.values() and len(op.kinds) > 1 and role == "customer":
            variants.append({"CustomerId": world.bob.id})  # one's own customer id, alice's address
        for own in variants:
            req = world.request(op, caller, ids=own)
            resp = send(srv, req)
            assert_problem(resp, expected, "not-found" if expected == 404 else "forbidden")
            assert not world.leaks(req, resp), f"{world.leaks(req, resp)} in {report(req, resp)}"
            # Exactly what an id that names nothing gets: no existence oracle.
            unknown = {k: v for k, v in world.unknown_ids().items() if k not in own}
            blank = send(srv, world.request(op, caller, ids=dict(unknown, **own)))
            assert (resp.status, comparable(resp.body)) == (blank.status, comparable(blank.body)), \
                f"another customer's object and an unknown one are told apart:\n{report(req, resp)}\n" \
                f"unknown id -> {describe(blank)}"
    world.assert_unchanged(before, f"{op.op_id} by an intruder")


@pytest.mark.walkthrough
@pytest.mark.parametrize("op", LIST_OPS, ids=ids(LIST_OPS))
def test_api1_lists_never_show_another_customers_objects(world, op):
    srv = world.server
    filters = [(name, world.hints()[name]) for name in op.query if name in ("customer_id", "order_id")]
    queries = [world.required_query(op)] + [[(n, v)] + [q for q in world.required_query(op) if q[0] != n]
                                            for n, v in filters]
    operator_cursor = None
    if "cursor" in op.query and "operator" in admitted_roles(op):
        page = assert_json(srv.call("GET", f"{op.path}?limit=1", token=world.operator), 200)
        operator_cursor = page["next_cursor"]
        if operator_cursor:  # an operator's cursor must not widen anyone else's list
            queries.append([("cursor", operator_cursor)])
    checked = 0
    for caller, role in (("other_customer", "customer"), ("other_courier", "courier")):
        admitted = op.public or role in admitted_roles(op)
        for query in queries:
            req = world.request(op, caller, query=query)
            resp = send(srv, req)
            if not admitted:
                assert_problem(resp, denial_status(op))
                continue
            if ("cursor", operator_cursor) in query and resp.status == 400:
                assert_field_error(resp, "cursor")  # a cursor bound to its caller: refused, fine too
                continue
            page = assert_json(resp, 200)
            own = world.bob.id if role == "customer" else None
            for item in page["data"]:
                if "customer_id" in item:
                    assert item["customer_id"] == own, f"someone else's {item.get('id')}: {report(req, resp)}"
            assert not world.leaks(req, resp), f"{world.leaks(req, resp)} in {report(req, resp)}"
            checked += 1
    if op.public or admitted_roles(op) & {"customer", "courier"}:
        assert checked, f"{op.op_id}: no list was read"


REFERENCE_OPS = [op for op in JSON_WRITES if set(properties(op.json_schema)) & set(REFERENCES)]


@pytest.mark.remote
@pytest.mark.parametrize("op", REFERENCE_OPS, ids=ids(REFERENCE_OPS))
def test_api1_naming_another_customers_object_in_a_body_is_refused_like_an_unknown_one(world, op):
    srv = world.server
    before = world.settled()
    for field in sorted(set(properties(op.json_schema)) & set(REFERENCES)):
        theirs = world.target_ids()[REFERENCES[field]] if field != "address_id" else world.alice_address["id"]
        req = world.request(op, "other_customer", body=dict(world.body(op), **{field: theirs}))
        resp = send(srv, req)
        body = assert_problem(resp, 422, "unprocessable")
        assert field in error_fields(body), report(req, resp)
        assert not world.leaks(req, resp), f"{world.leaks(req, resp)} in {report(req, resp)}"
        unknown = world.unknown_ids()[REFERENCES[field]]
        blank = send(srv, world.request(op, "other_customer", body=dict(world.body(op), **{field: unknown})))
        assert comparable(resp.body) == comparable(blank.body), \
            f"another customer's {field} and an unknown one are told apart:\n{report(req, resp)}\n{describe(blank)}"
    world.assert_unchanged(before, f"{op.op_id} naming alice's objects")


# --------------------------------------------------------------------------------------------
# API2 broken authentication


def bad_credentials(world: World, listener: Listener) -> dict[str, str | None]:
    """Authorization header values that must not authenticate, each naming an operator where it
    names anyone (so an acceptance would let everything through)."""
    if getattr(world, "_bad_credentials", None):
        return world._bad_credentials
    srv = world.server
    real = world.operator
    header, claims, signature = decode_jwt(real)
    h64, c64, s64 = real.split(".")
    key = signing_key_file(srv)
    public_pem = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], check=True, capture_output=True,
                                timeout=30).stdout
    jwks = assert_json(srv.call("GET", "/.well-known/jwks.json"), 200)
    now = int(time.time())
    live = dict(claims, iat=now, nbf=now, exp=now + 600, jti=f"jti_owasp_{uuid.uuid4().hex}")
    flipped = bytearray(b64url_decode(s64))
    flipped[len(flipped) // 2] ^= 0x01
    _, customer_claims, customer_signature = decode_jwt(world.alice.token)
    creds: dict[str, str | None] = {
        "no-token": None,
        "basic-scheme": "Basic " + base64.b64encode(f"{srv.operator_email}:{srv.operator_password}".encode()).decode(),
        "empty-bearer": "Bearer",
        "garbage": "Bearer not-a-jwt",
        "oversized": "Bearer " + real + "A" * 9000,
        "alg-none": "Bearer " + encode_jwt(dict(header, alg="none"), live),
        "alg-none-real-signature": "Bearer " + encode_jwt(dict(header, alg="none"), claims, signature),
        "hs256-public-key-pem": "Bearer " + hs256(dict(header, alg="HS256"), live, public_pem),
        "hs256-public-jwk": "Bearer " + hs256(dict(header, alg="HS256"), live,
                                              json.dumps(jwks["keys"][0]).encode()),
        "another-key-our-kid": "Bearer " + es256(listener.key, header, live),
        "signature-flipped": f"Bearer {h64}.{c64}.{b64url_encode(bytes(flipped))}",
        "signature-removed": f"Bearer {h64}.{c64}.",
        "customer-claims-escalated": "Bearer " + encode_jwt(decode_jwt(world.alice.token)[0],
                                                            dict(customer_claims, roles=["operator"]),
                                                            customer_signature),
        "expired": "Bearer " + es256(key, header, dict(live, iat=now - 7200, nbf=now - 7200, exp=now - 3600)),
        "not-yet-valid": "Bearer " + es256(key, header, dict(live, nbf=now + 3600, exp=now + 7200)),
        "other-issuer": "Bearer " + es256(key, header, dict(live, iss="https://evil.example")),
        "other-audience": "Bearer " + es256(key, header, dict(live, aud="another-api")),
        "no-expiry": "Bearer " + es256(key, header, {k: v for k, v in live.items() if k != "exp"}),
        "typ-jwt": "Bearer " + es256(key, dict(header, typ="JWT"), live),
        "crit-header": "Bearer " + es256(key, dict(header, crit=["exp"]), live),
        "unknown-kid": "Bearer " + es256(key, dict(header, kid="owasp-unknown-kid"), live),
        "refresh-token": "Bearer " + world.alice.tokens["refresh_token"],
    }
    world._bad_credentials = creds
    return creds


def test_api2_the_forged_tokens_are_well_made(world, listener):
    """The signed variants differ from a good token only in what they break: the same key and
    claims, fresh, are accepted (so each 401 below is for the flaw, not for a bad signature)."""
    srv = world.server
    header, claims, _ = decode_jwt(world.operator)
    now = int(time.time())
    good = es256(signing_key_file(srv), header, dict(claims, iat=now, nbf=now, exp=now + 600))
    resp = srv.call("GET", "/api/v1/zones", token=good)
    assert_json(resp, 200)
    assert len(bad_credentials(world, listener)) > 20


@pytest.mark.remote
@pytest.mark.parametrize("case", SECURED, ids=ids(SECURED))
def test_api2_bad_credentials_are_401_with_a_bearer_challenge_and_change_nothing(world, listener, case):
    srv, op = world.server, case.op
    before = world.settled() if op.method in WRITES else None
    for name, authorization in bad_credentials(world, listener).items():
        req = world.request(op, query=world.required_query(op) + list(case.query))
        req.authorization = authorization
        resp = send(srv, req)
        try:
            assert_problem(resp, 401, "unauthorized")
            challenge = resp.headers.get("www-authenticate", "")
            assert challenge.startswith("Bearer"), "no Bearer challenge"
            if authorization is None:
                assert "error=" not in challenge, "an error in the challenge of a request without a token"
            else:
                assert 'error="invalid_token"' in challenge, "no invalid_token in the challenge"
        except AssertionError as exc:
            raise AssertionError(f"credential {name!r}: {exc}\n{report(req, resp)}") from None
    if op.method == "GET":  # control: the same request with a good token is served
        good = world.request(op, world.best_caller(case), query=world.required_query(op) + list(case.query))
        resp = send(srv, good)
        assert 200 <= resp.status < 300, report(good, resp)
    world.assert_unchanged(before, f"{case.name} with bad credentials")


@pytest.mark.gateway
def test_api2_two_authorization_fields_never_grant_more_than_one_alone(world):
    """Authorization is a single field (RFC 9110). The process reads the first of two; whatever a
    shape does with two, the answer is never more than what one of them alone would get, and a
    bad one never lets the other through to a write."""
    srv = world.server
    alice, bob, operator = world.alice.token, world.bob.token, world.operator
    op = BY_ID["listCustomers"]

    def status(*tokens: str, path: str = "/api/v1/customers?limit=1") -> int:
        head = srv.request_head("GET", path, {})
        fields = "".join(f"Authorization: Bearer {t}\r\n" for t in tokens).encode()
        return srv.raw_exchange(head[:-2] + fields + b"\r\n").status
    assert op.path == "/api/v1/customers"
    alone = {t: status(t) for t in (alice, operator)}
    assert alone == {alice: 403, operator: 200}, alone
    for first, second in ((alice, operator), (operator, alice)):
        both = status(first, second)
        assert both in (400, 401, alone[first]), f"two fields answered {both}, the first alone {alone[first]}"
    own = f"/api/v1/customers/{world.alice.id}"
    for pair in ((bob, alice), ("not-a-token", alice), (alice, "not-a-token")):
        got = status(*pair, path=own)
        assert got in (400, 401) or got == status(pair[0], path=own), f"{got} for {pair}"


# --------------------------------------------------------------------------------------------
# API3 broken object property level authorization


# Members the server owns: they are never taken from a request body.
SERVER_OWNED = ["id", "customer_id", "account_id", "courier_id", "order_id", "payment_id", "delivery_id", "status",
                "role", "roles", "scope", "amount", "total", "price", "captured_amount", "refunded_amount",
                "active_deliveries", "opened_by", "created_at", "updated_at", "version", "password_hash", "is_admin",
                "email", "password", "addresses", "sku"]
SERVER_OWNED_IN_ITEMS = ["id", "unit_price", "line_total", "price", "name", "currency"]
INJECTED = {"id": "cus_" + UNKNOWN_ULID, "customer_id": "cus_" + UNKNOWN_ULID, "account_id": "acc_" + UNKNOWN_ULID,
            "courier_id": "cou_" + UNKNOWN_ULID, "order_id": "ord_" + UNKNOWN_ULID, "payment_id": "pay_" + UNKNOWN_ULID,
            "delivery_id": "dlv_" + UNKNOWN_ULID, "status": "active", "role": "operator", "roles": ["operator"],
            "scope": "module:customers", "amount": 1, "total": 1, "price": 1, "captured_amount": 999999,
            "refunded_amount": 0, "active_deliveries": 0, "opened_by": "system", "created_at": "2001-01-01T00:00:00Z",
            "updated_at": "2001-01-01T00:00:00Z", "version": 99, "password_hash": "$argon2id$owasp", "is_admin": True,
            "email": "owasp-takeover@example.com", "password": "owasp takeover password", "addresses": [],
            "sku": "OWASP-TAKEN",
            "unit_price": 1, "line_total": 1, "name": "Owasp", "currency": "XXX"}


def injections(op: Op, world: World) -> list[tuple[Any, str]]:
    """(body, field path named in the answer) for every server-owned member the operation's
    schema does not declare, at the top level and in the first member of a list of objects."""
    schema = op.json_schema
    declared = properties(schema)
    out = []
    for name in SERVER_OWNED:
        if name not in declared:
            out.append((dict(world.body(op), **{name: INJECTED[name]}), name))
    for name, sub in declared.items():
        items = merged(single_branch(merged(sub)).get("items", {}))
        if merged(single_branch(merged(sub))).get("type") == "array" and "properties" in items:
            for inner in SERVER_OWNED_IN_ITEMS:
                if inner not in items["properties"]:
                    body = world.body(op)
                    if isinstance(body.get(name), list) and body[name] and isinstance(body[name][0], dict):
                        body[name][0][inner] = INJECTED[inner]
                        out.append((body, f"{name}[0].{inner}"))
    return out


@pytest.mark.parametrize("op", JSON_WRITES, ids=ids(JSON_WRITES))
def test_api3_server_owned_members_in_a_body_are_refused_and_never_applied(world, op):
    srv = world.server
    caller = world.best_caller(Case(op))
    before = world.settled()
    cases = injections(op, world)
    assert cases, f"{op.op_id}: declares every server-owned member?"
    for body, field in cases:
        req = world.request(op, caller, body=body)
        resp = send(srv, req)
        try:
            assert_field_error(resp, field, "unknown field")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{report(req, resp)}") from None
    world.assert_unchanged(before, f"{op.op_id} with server-owned members")


def scratch_ids_for_bodyless(world: World, op: Op) -> dict[str, str]:
    """Fresh targets for a write without a body, in a state where it succeeds."""
    srv, kinds = world.server, set(op.kinds.values())
    out: dict[str, str] = {}
    if "CustomerId" in kinds:
        dave = world.register("Dave Scratch")
        out["CustomerId"] = dave.id
        if "AddressId" in kinds:
            out["AddressId"] = world.add_address(dave)["id"]
        if "reactivate" in op.path:
            assert_json(srv.call("POST", f"/api/v1/customers/{dave.id}/suspend", token=world.operator), 200)
    return out


@pytest.mark.parametrize("op", BODYLESS_WRITES, ids=ids(BODYLESS_WRITES))
def test_api3_a_body_on_a_write_without_one_is_refused_or_ignored(world, op):
    srv = world.server
    scratch = scratch_ids_for_bodyless(world, op)
    injected = {k: INJECTED[k] for k in ("id", "status", "customer_id", "role", "roles", "version", "created_at")}
    before = world.settled()
    req = world.request(op, world.best_caller(Case(op)), ids=scratch, body=None)
    req.body, req.content_type = injected, "application/json"
    resp = send(srv, req)
    after = world.snapshot()
    if resp.status >= 400:
        assert_problem(resp, resp.status)
        assert after == before, state_diff(before, after)
        return
    assert 200 <= resp.status < 300, report(req, resp)
    changed = [json.loads(records[key]) for name, records in after.items() for key in records
               if records[key] != before.get(name, {}).get(key) and records[key].startswith("{")]
    for record in changed:
        for key, value in injected.items():
            if key in record and key != "status":
                assert record[key] != value, f"{key}={value!r} was applied: {record}\n{report(req, resp)}"
    if isinstance(resp.body, dict):
        for key in ("id", "version", "created_at", "role", "roles"):
            assert resp.body.get(key) != injected[key], f"{key} taken from the body: {report(req, resp)}"


def test_api3_extra_token_parameters_grant_no_role_or_scope(world):
    """RFC 6749 ignores unknown parameters: none of them may widen what a token grants."""
    srv = world.server
    carol = world.scratch()["carol"]
    extra = {"role": "operator", "roles": "operator", "scope": "operator module:customers", "sub": world.alice.id,
             "aud": "another-api", "iss": "https://evil.example"}
    resp = srv.token_request(dict({"grant_type": "password", "username": carol.email, "password": carol.password},
                                  **extra))
    claims = decode_jwt(assert_json(resp, 200)["access_token"])[1]
    world.refresh_tokens.add(resp.body["refresh_token"])
    assert claims["roles"] == ["customer"] and claims["sub"] == carol.id, claims
    assert claims["iss"] != extra["iss"] and claims["aud"] != extra["aud"] and "scope" not in claims, claims
    plain = decode_jwt(world.service_token)[1]
    resp = srv.token_request(dict({"grant_type": "client_credentials", "client_id": srv.client_id,
                                   "client_secret": srv.client_secret}, **extra))
    claims = decode_jwt(assert_json(resp, 200)["access_token"])[1]
    assert claims["roles"] == plain["roles"] and claims["sub"] == plain["sub"], (claims, plain)
    assert set(claims.get("scope", "").split()) <= set(plain.get("scope", "").split()), (claims, plain)


# -- successful answers (API3, API8): one per operation and admitted caller, on scratch objects


def happy_requests(world: World, op: Op) -> list[Prepared]:
    """Requests that succeed, one per kind of admitted caller; writes act on scratch objects."""
    maker = HAPPY.get(op.op_id)
    if maker is not None:
        return maker(world, op)
    if op.method == "GET":
        out = []
        callers = [None] if op.public else sorted(admitted_roles(op))
        for caller in callers:
            out.append(world.request(op, caller))
        for extra in token_query(op):
            out.append(world.request(op, "operator", query=world.required_query(op) + [extra]))
        return out
    pytest.fail(f"{op.op_id}: no successful request is known for this write (add one to HAPPY)")


def _carol(w: World) -> Any:
    return w.scratch()["carol"]


def _as(account) -> str:
    return f"Bearer {account.token}"


def _happy(method: str, path: str, body: Any = None, authorization: str | None = None, caller: str = "",
           form: bool = False) -> list[Prepared]:
    if form:
        return [Prepared(method, path, [], urllib.parse.urlencode(body).encode(), "application/x-www-form-urlencoded",
                         authorization, {}, caller)]
    return [Prepared(method, path, [], body, "application/json" if body is not None else None, authorization, {},
                     caller)]


def _fresh_incident(w: World) -> dict:
    s = w.scratch()
    return w.open_incident(s["carol"], s["order"]["id"])


def _fresh_order(w: World) -> dict:
    return w.place(w.scratch()["carol"], w.scratch()["address"]["id"])


def _fresh_courier_delivery(w: World) -> str:
    s = w.scratch()
    return w.confirmed_order(s["carol"], s["address"]["id"])["delivery_id"]


def _suspended(w: World) -> Any:
    dave = w.register("Dave Scratch")
    assert_json(w.server.call("POST", f"/api/v1/customers/{dave.id}/suspend", token=w.operator), 200)
    return dave


HAPPY: dict[str, Callable[[World, Op], list[Prepared]]] = {
    "registerCustomer": lambda w, op: _happy("POST", op.path, w.body(op), caller="anonymous"),
    "updateCustomer": lambda w, op: _happy("PATCH", f"/api/v1/customers/{_carol(w).id}", {"name": "Carol Renamed"},
                                           _as(_carol(w)), "customer"),
    "addAddress": lambda w, op: _happy("POST", f"/api/v1/customers/{_carol(w).id}/addresses",
                                       dict(ADDRESS, line1="Calle Carol 4"), _as(_carol(w)), "customer"),
    "deleteAddress": lambda w, op: _happy(
        "DELETE", f"/api/v1/customers/{_carol(w).id}/addresses/{w.add_address(_carol(w), 'Calle Borrada 5')['id']}",
        None, _as(_carol(w)), "customer"),
    "suspendCustomer": lambda w, op: _happy("POST", f"/api/v1/customers/{w.register('Dave Scratch').id}/suspend",
                                            None, f"Bearer {w.operator}", "operator"),
    "reactivateCustomer": lambda w, op: _happy("POST", f"/api/v1/customers/{_suspended(w).id}/reactivate", None,
                                               f"Bearer {w.operator}", "operator"),
    "createProduct": lambda w, op: _happy("POST", op.path, w.body(op), f"Bearer {w.operator}", "operator"),
    "updateProduct": lambda w, op: _happy(
        "PATCH", "/api/v1/catalog/products/" + assert_json(send(w.server, _happy(
            "POST", "/api/v1/catalog/products", BODIES["createProduct"](w), f"Bearer {w.operator}")[0]), 201)["id"],
        {"price": 1300}, f"Bearer {w.operator}", "operator"),
    "placeOrder": lambda w, op: _happy("POST", op.path, {"items": [{"sku": w.sku, "quantity": 1}],
                                                         "address_id": w.scratch()["address"]["id"],
                                                         "payment_method": "tok_visa"}, _as(_carol(w)), "customer"),
    "cancelOrder": lambda w, op: _happy("POST", f"/api/v1/orders/{_fresh_order(w)['id']}/cancel",
                                        {"reason": "Changed my mind"}, _as(_carol(w)), "customer"),
    "refundPayment": lambda w, op: _happy("POST", f"/api/v1/payments/{w.delivered['payment_id']}/refunds",
                                          {"amount": 1, "reason": "Goodwill"}, f"Bearer {w.operator}", "operator"),
    "createZone": lambda w, op: _happy("POST", op.path, w.body(op), f"Bearer {w.operator}", "operator"),
    "createCourier": lambda w, op: _happy("POST", op.path, w.body(op), f"Bearer {w.operator}", "operator"),
    "updateCourier": lambda w, op: _happy("PATCH", f"/api/v1/couriers/{w.far_courier['id']}",
                                          {"name": "Far courier, renamed"}, f"Bearer {w.operator}", "operator"),
    "reportDeliveryEvent": lambda w, op: _happy("POST", f"/api/v1/deliveries/{_fresh_courier_delivery(w)}/events",
                                                {"status": "picked_up", "note": "On my way"},
                                                f"Bearer {w.courier_token}", "courier"),
    "openIncident": lambda w, op: _happy("POST", op.path, {"order_id": w.scratch()["order"]["id"], "type": "late",
                                                           "description": "Still waiting"}, _as(_carol(w)), "customer"),
    "addIncidentComment": lambda w, op: _happy("POST", f"/api/v1/incidents/{w.scratch()['incident']['id']}/comments",
                                               {"body": "Any news?"}, _as(_carol(w)), "customer"),
    "resolveIncident": lambda w, op: _happy("POST", f"/api/v1/incidents/{_fresh_incident(w)['id']}/resolve",
                                            {"resolution": "none"}, f"Bearer {w.operator}", "operator"),
    "rejectIncident": lambda w, op: _happy("POST", f"/api/v1/incidents/{_fresh_incident(w)['id']}/reject",
                                           {"reason": "Not our fault"}, f"Bearer {w.operator}", "operator"),
    "revokeToken": lambda w, op: _happy("POST", op.path, {"token": w.server.login(_carol(w).email, _carol(w).password)[
        "refresh_token"], "token_type_hint": "refresh_token"}, caller="anonymous", form=True),
    "issueToken": lambda w, op: _happy("POST", op.path, {"grant_type": "password", "username": _carol(w).email,
                                                         "password": _carol(w).password}, caller="anonymous",
                                       form=True),
}


def happy(world: World, op: Op) -> list[tuple[Prepared, Response]]:
    if op.op_id not in world.happy_cache:
        srv, out = world.server, []
        for req in happy_requests(world, op):
            req.headers["X-Request-Id"] = f"owasp-{op.op_id}-{len(out)}"
            target = srv
            if op.operational and in_split() and op.path != "/livez":
                target = srv.processes()[0]  # not routed by the gateway (API9)
            resp = send(target, req)
            assert 200 <= resp.status < 300, f"{op.op_id}: the request meant to succeed did not:\n{report(req, resp)}"
            if op.op_id == "issueToken" and isinstance(resp.body, dict) and "refresh_token" in resp.body:
                world.refresh_tokens.add(resp.body["refresh_token"])
            out.append((req, resp))
        if op.method in WRITES:
            world.settled()  # what the write set going in the background ends before the next test
        world.happy_cache[op.op_id] = out
    return world.happy_cache[op.op_id]


SECRET_KEYS = {"password", "password_hash", "secret", "client_secret", "token_hash", "refresh_token", "private_key",
               "d", "p", "q", "dp", "dq", "qi"}


def secret_members(value: Any, allowed: set[str], path: str = "") -> list[str]:
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in SECRET_KEYS and k not in allowed:
                out.append(f"{path}.{k}")
            out += secret_members(v, allowed, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += secret_members(v, allowed, f"{path}[{i}]")
    return out


@pytest.mark.parametrize("op", OPERATIONS, ids=ids(OPERATIONS))
def test_api3_no_successful_answer_carries_a_secret(world, op):
    for req, resp in happy(world, op):
        text = resp.raw.decode("utf-8", "replace")
        allowed = {"refresh_token"} if op.op_id == "issueToken" else set()
        found = sorted(s for s in world.secrets if s in text)
        found += sorted(f"a refresh token ({t[:6]}…)" for t in world.refresh_tokens
                        if "refresh_token" not in allowed and t in text)
        if "$argon2" in text:
            found.append("an argon2 hash")
        if media_type(resp) == "application/json":
            found += secret_members(resp.body, allowed)
        assert not found, f"{found} in {report(req, resp)}"


def undocumented_members(schema: Any, value: Any, path: str = "") -> list[str]:
    """Members of value that schema (and its allOf/oneOf/anyOf branches) does not declare."""
    s = merged(schema)
    if isinstance(value, dict):
        props = properties(s)
        if not props and s.get("additionalProperties") is not False:
            return []
        out = []
        for k, v in value.items():
            out += [f"{path}.{k}"] if k not in props else undocumented_members(props[k], v, f"{path}.{k}")
        return out
    if isinstance(value, list):
        items = [merged(b).get("items") for b in [s] + s.get("oneOf", []) + s.get("anyOf", [])
                 if merged(b).get("items") is not None]
        return [m for i, v in enumerate(value) for m in (undocumented_members(items[0], v, f"{path}[{i}]")
                                                        if items else [])]
    return []


# Findings: members the server sends that the document does not declare (see README).
UNDOCUMENTED_XFAIL: dict[str, str] = {}


@pytest.mark.walkthrough
@pytest.mark.parametrize("op", marked(OPERATIONS, UNDOCUMENTED_XFAIL), ids=ids(OPERATIONS))
def test_api3_successful_answers_hold_only_documented_members(world, op):
    checked = 0
    for req, resp in happy(world, op):
        content = (op.response(resp.status) or {}).get("content", {})
        assert op.response(resp.status) is not None, f"undeclared status: {report(req, resp)}"
        if "application/json" in content and media_type(resp) == "application/json":
            extra = undocumented_members(content["application/json"]["schema"], resp.body)
            assert not extra, f"members the document does not declare: {extra}\n{report(req, resp)}"
        else:  # not JSON (204, YAML, text): the declared media type, or no body
            assert not content or media_type(resp) in content, report(req, resp)
        checked += 1
    assert checked


# --------------------------------------------------------------------------------------------
# API4 unrestricted resource consumption

BAD_LIMITS = ["201", "1000", "2147483648", "99999999999999999999", "-1", "0", "abc", "1.5", "1e2", "0x10", "+5", ""]
BAD_CURSORS = ["x", "AAAAAAAA", b64url_encode(json.dumps({"offset": 0, "limit": 100000}).encode()), "%00"]


@pytest.mark.parametrize("op", PAGED_OPS, ids=ids(PAGED_OPS))
def test_api4_page_sizes_are_bounded_and_cursors_are_ours(world, op):
    srv = world.server
    caller = world.best_caller(Case(op)) if not op.public else None
    assert_json(send(srv, world.request(op, caller, query=world.required_query(op) + [("limit", "200")])), 200)
    for value in BAD_LIMITS:
        req = world.request(op, caller, query=world.required_query(op) + [("limit", value)])
        resp = send(srv, req)
        try:
            assert_field_error(resp, "limit")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{report(req, resp)}") from None
    for value in BAD_CURSORS:
        req = world.request(op, caller, query=world.required_query(op) + [("cursor", value)])
        resp = send(srv, req)
        try:
            assert_field_error(resp, "cursor")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{report(req, resp)}") from None


@pytest.mark.parametrize("op", ONE_PAGE_OPS, ids=ids(ONE_PAGE_OPS))
def test_api4_one_page_lists_do_not_read_limit(world, op):
    """The short lists come in one page whatever limit asks (docs/openapi.yaml, conventions)."""
    srv = world.server
    caller = world.best_caller(Case(op))
    for value in ("100000", "-1", "abc"):
        req = world.request(op, caller, query=world.required_query(op) + [("limit", value), ("cursor", "x")])
        page = assert_json(send(srv, req), 200)
        assert page["next_cursor"] is None and len(page["data"]) <= 50, page


@pytest.mark.gateway
@pytest.mark.parametrize("op", BODY_OPS, ids=ids(BODY_OPS))
def test_api4_a_body_over_1_mib_is_413_and_changes_nothing(world, op):
    srv = world.server
    before = world.settled() if op.method in WRITES else None
    if op.form:
        media, payload = "application/x-www-form-urlencoded", b"grant_type=password&pad=" + b"x" * (MIB + 64)
    else:
        media = "application/json"
        payload = json.dumps(dict(world.body(op) or {}, pad="x" * (MIB + 64))).encode()
    headers = {"Content-Type": media, "Content-Length": str(len(payload))}
    caller = world.best_caller(Case(op))
    if caller:
        headers["Authorization"] = world.authorization(caller)
    head = srv.request_head(op.method, world.path(op), headers)
    resp = srv.raw_exchange(head, [payload[i:i + 65536] for i in range(0, len(payload), 65536)], method=op.method)
    assert_problem(resp, 413, "payload-too-large")
    world.assert_unchanged(before, f"{op.op_id} with a body over 1 MiB")


def bound_of(schema: Any) -> dict | None:
    """The schema (its one non-null branch) when it bounds a string, a list or an integer."""
    s = single_branch(merged(schema))
    if "maxLength" in s or "maxItems" in s or ("maximum" in s and s.get("type") == "integer"):
        return s
    return None


def bounded_fields(schema: Any, prefix: str = "") -> list[tuple[tuple, str, dict]]:
    """(path in the body, field the answer must name, bounded schema) of every bounded member,
    in lists of objects through their first item. A choice of shapes (oneOf) is left to the
    operation's own tests."""
    top = merged(schema)
    if "oneOf" in top or "anyOf" in top:
        return []
    out = []
    for name, sub in properties(top).items():
        bounded = bound_of(sub)
        if bounded is not None:
            out.append(((name,), f"{prefix}{name}", bounded))
        inner = single_branch(merged(sub))
        items = merged(inner.get("items", {}))
        if inner.get("type") == "array" and "properties" in items:
            for path, field, sch in bounded_fields(items, f"{prefix}{name}[0]."):
                out.append(((name, 0) + path, field, sch))
    return out


def long_email(n: int) -> str:
    """A well-formed email address of n characters (a 64-character local part, 63-character labels)."""
    domain = n - 65 - len(".com")
    labels = []
    while domain > 0:
        size = min(63, domain if domain <= 63 else min(63, domain - 2))
        labels.append("d" * size)
        domain -= size + 1
    email = "a" * 64 + "@" + ".".join(labels) + ".com"
    assert len(email) == n and re.fullmatch(r"[^@]{1,64}@([a-z0-9]{1,63}\.)+com", email), email
    return email


def past_the_bound(s: dict, world: World, name: str) -> Any:
    """A value just past the bound of s (a schema bound_of returned)."""
    if "maxLength" in s:
        n = s["maxLength"] + 1
        if s.get("format") == "email":
            return long_email(n)
        for char in "xA6-":
            if "pattern" not in s or re.search(s["pattern"], char * max(1, s.get("minLength", 1))):
                return char * n
        pytest.fail(f"{name}: no character fits {s['pattern']!r}")
    if "maxItems" in s:
        n = s["maxItems"] + 1
        items = merged(s.get("items", {}))
        if "properties" in items:
            item = {"sku": world.sku, "quantity": 1} if "sku" in items["properties"] else example(items, None, world)
            return [item] * n
        return [f"9{i:04d}" for i in range(n)]  # distinct short strings (postal prefixes and the like)
    return s["maximum"] + 1


def set_at(body: Any, path: tuple, value: Any) -> Any:
    body = json.loads(json.dumps(body))
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


BOUNDED_QUERY = {op.op_id: [name for name, p in op.query.items() if name != "limit" and bound_of(p.get("schema", {}))]
                 for op in OPERATIONS}
BOUNDED_OPS = [op for op in OPERATIONS if BOUNDED_QUERY[op.op_id]
               or (op.json_schema is not None and bounded_fields(op.json_schema))]
# A finding: the server does not hold the query parameter to the document's bound (see README).
QUERY_BOUND_XFAIL: dict[str, str] = {}


@pytest.mark.parametrize("op", marked(BOUNDED_OPS, QUERY_BOUND_XFAIL), ids=ids(BOUNDED_OPS))
def test_api4_every_member_past_its_bound_is_400_naming_it(world, op):
    srv = world.server
    caller = world.best_caller(Case(op))
    before = world.settled() if op.method in WRITES else None
    cases: list[tuple[Prepared, str]] = []
    for name in BOUNDED_QUERY[op.op_id]:
        value = past_the_bound(bound_of(op.query[name]["schema"]), world, name)
        cases.append((world.request(op, caller, query=world.required_query(op) + [(name, str(value))]), name))
    if op.json_schema is not None:
        for path, field, schema in bounded_fields(op.json_schema):
            body = world.body(op)
            if len(path) > 1 and not (isinstance(body.get(path[0]), list) and body[path[0]]):
                continue
            value = past_the_bound(schema, world, field)
            cases.append((world.request(op, caller, body=set_at(body, path, value)), field))
    assert cases, f"{op.op_id}: nothing bounded to try"
    for req, field in cases:
        resp = send(srv, req)
        try:
            assert_field_error(resp, field)
        except AssertionError as exc:
            raise AssertionError(f"{field} past its bound: {exc}\n{report(req, resp)}") from None
    world.assert_unchanged(before, f"{op.op_id} with members past their bounds")


# --------------------------------------------------------------------------------------------
# API5 broken function level authorization


def test_api5_every_secured_operation_says_who_may_call_it():
    """The role checks below read the operations' descriptions: each must name its callers."""
    silent = [case.name for case in SECURED if not case.admitted]
    assert not silent, f"descriptions that name no role (say 'Operators only', ...): {silent}"


@pytest.mark.parametrize("case", SECURED, ids=ids(SECURED))
def test_api5_roles_the_contract_does_not_admit_are_refused(world, case):
    srv, op = world.server, case.op
    refused = [role for role in ROLES if role not in case.admitted]
    before = world.settled() if op.method in WRITES and refused else None
    expected = 403 if case.query else denial_status(op)
    for role in refused:
        req = world.request(op, role, query=world.required_query(op) + list(case.query))
        resp = send(srv, req)
        try:
            assert_problem(resp, expected, "forbidden" if expected == 403 else "not-found")
        except AssertionError as exc:
            raise AssertionError(f"role {role}: {exc}\n{report(req, resp)}") from None
    world.assert_unchanged(before, f"{case.name} by roles it does not admit")
    if op.method == "GET":  # and the roles it admits get in
        for role in sorted(case.admitted):
            req = world.request(op, role, query=world.required_query(op) + list(case.query))
            resp = send(srv, req)
            assert 200 <= resp.status < 300, f"role {role} is admitted:\n{report(req, resp)}"
    assert refused or op.method == "GET", f"{case.name}: every role admitted to a write?"


OVERRIDES = ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override")
OVERRIDE_OPS = [op for op in OPERATIONS if op.method in WRITES and not op.public]


@pytest.mark.parametrize("op", OVERRIDE_OPS, ids=ids(OVERRIDE_OPS))
def test_api5_method_override_headers_change_nothing(world, op):
    """A GET that names this operation's method in an override header is answered as the GET it
    is (or 405 where the path has no GET), never as the write."""
    srv = world.server
    before = world.settled()
    for caller in ("customer", "courier"):
        plain = world.request(op, caller)
        plain.method = "GET"
        expected = send(srv, plain)
        req = world.request(op, caller)
        req.method = "GET"
        req.headers.update({h: op.method for h in OVERRIDES})
        resp = send(srv, req)
        assert resp.status == expected.status, f"without the headers: {describe(expected)}\n{report(req, resp)}"
        if resp.status >= 400:
            assert_problem(resp, resp.status, expected.body["type"].rsplit(":", 1)[-1])
    world.assert_unchanged(before, f"{op.op_id} named in method-override headers")


def internal_routes() -> list[tuple[str, str, str]]:
    """(module, method, path) of every route src/modules/*/src/internal_routes.cpp registers."""
    out = []
    for source in sorted(glob.glob(os.path.join(REPO, "src", "modules", "*", "src", "internal_routes.cpp"))):
        module = source.split(os.sep)[-3]
        with open(source, encoding="utf-8") as f:
            for method, path in re.findall(r'router\.add\(\s*"([A-Z]+)"\s*,\s*"([^"]+)"', f.read()):
                out.append((module, method, path))
    return out


INTERNAL = internal_routes()


def test_api5_the_internal_routes_are_found_in_the_code():
    assert len(INTERNAL) >= 10, INTERNAL
    assert all(path.startswith("/internal/v1/") for _, _, path in INTERNAL), INTERNAL
    assert {module for module, _, _ in INTERNAL} >= {"customers", "orders", "payments", "delivery"}, INTERNAL


def internal_path(world: World, path: str) -> str:
    def value(match):
        before = path[:match.start()].rstrip("/").rsplit("/", 1)[-1]
        return {"customers": world.alice.id, "courier-accounts": world.courier["account_id"],
                "orders": world.confirmed["id"], "by-order": world.confirmed["id"]}.get(before, "owasp")
    return re.sub(r"\{[^}]+\}", value, path)


def encoded_variants(path: str) -> list[tuple[str, set[int]]]:
    """(path, statuses that keep it closed): spellings a proxy or a router might normalise."""
    rest = path[len("/internal"):]
    return [
        ("/internal%2F" + rest.lstrip("/").replace("/", "%2F", 1), {400}),
        ("/api/v1/customers/..%2F..%2Finternal" + rest, {400}),
        ("/api/v1/orders/%2e%2e/%2e%2e/internal" + rest, {400}),
        ("/api/v1/customers/../../internal" + rest, {400}),
        ("/%69nternal" + rest, {400, 404}),
        ("//internal" + rest, {400, 404}),
        ("/INTERNAL" + rest, {404}),
        ("/api/v1/customers/x%5C..%5C..%5Cinternal" + rest, {400}),
    ]


@pytest.mark.remote
@pytest.mark.gateway
@pytest.mark.parametrize("route", INTERNAL, ids=[f"{meth}:{p}" for _, meth, p in INTERNAL])
def test_api5_internal_routes_are_closed_to_public_callers(world, route):
    module, method, template = route
    srv = world.server
    path = internal_path(world, template)
    body = {} if method == "POST" else None
    before = world.settled()
    # The process that serves the route, called directly: only a service token gets through.
    process = srv.process(module) if in_split() else srv
    resp = process.call(method, path, body)
    assert_problem(resp, 401, "unauthorized")
    for caller in ("customer", "courier", "operator"):
        resp = process.call(method, path, body, headers={"Authorization": world.authorization(caller)})
        assert_problem(resp, 403, "forbidden")
    if in_split():
        # Through the gateway: not routed at all, whoever asks (a service token included).
        for caller in (None, "customer", "operator", "service"):
            headers = {"Authorization": world.authorization(caller)} if caller else {}
            resp = srv.call(method, path, body, headers=headers)
            assert_problem(resp, 404, "not-found")
    for variant, closed in encoded_variants(path):
        for caller in ("customer", "operator") + (("service",) if in_split() else ()):
            resp = srv.call(method, variant, body, headers={"Authorization": world.authorization(caller)})
            allowed = closed if in_split() else closed | {403}
            assert resp.status in allowed, f"{method} {variant} as {caller}: {describe(resp)}"
            assert_problem(resp, resp.status)
    world.assert_unchanged(before, f"{method} {template} by public callers")


# --------------------------------------------------------------------------------------------
# API6 unrestricted access to sensitive business flows
# (registrations per address, login throttling, suspended customers' orders, incident refunds over
# the capture, cancellation after pick-up: test_abuse.py, test_oauth.py, test_orders.py,
# test_incidents.py, test_cancellation.py)


def minimum_fields(schema: Any) -> list[tuple[Any, tuple, str, int]]:
    """(schema of the body, path, field, minimum) of every integer member with a minimum, in
    lists of objects through their first item; each branch of a top-level oneOf on its own."""
    top = merged(schema)
    if "oneOf" in top or "anyOf" in top:
        return [found for branch in top.get("oneOf", []) + top.get("anyOf", []) for found in minimum_fields(branch)]
    out = []
    for name, sub in properties(top).items():
        s = single_branch(merged(sub))
        if s.get("type") == "integer" and "minimum" in s:
            out.append((top, (name,), name, s["minimum"]))
        items = merged(s.get("items", {}))
        if s.get("type") == "array" and "properties" in items:
            out += [(top, (name, 0) + path, f"{name}[0].{field}", low)
                    for _, path, field, low in minimum_fields(items)]
    return out


MINIMUM_OPS = [op for op in JSON_WRITES if minimum_fields(op.json_schema)]


@pytest.mark.parametrize("op", MINIMUM_OPS, ids=ids(MINIMUM_OPS))
def test_api6_amounts_and_quantities_below_their_minimum_are_refused(world, op):
    """No negative price, quantity, refund or capacity: a total or a refund cannot be turned
    around by a sign."""
    srv = world.server
    caller = world.best_caller(Case(op))
    before = world.settled()
    for schema, path, field, low in minimum_fields(op.json_schema):
        base = world.body(op)
        if isinstance(base, dict) and not set(path[:1]) <= set(base):
            base = example(schema, None, world)  # another branch of a oneOf (resolve with a refund)
        for value in (low - 1, -(10 ** 12)):
            req = world.request(op, caller, body=set_at(base, path, value))
            resp = send(srv, req)
            try:
                assert_field_error(resp, field)
            except AssertionError as exc:
                raise AssertionError(f"{field}={value}: {exc}\n{report(req, resp)}") from None
    world.assert_unchanged(before, f"{op.op_id} with members below their minimum")


def test_api6_a_refund_over_what_is_still_refundable_is_refused_and_refunds_nothing(world):
    srv, token = world.server, world.operator
    path = f"/api/v1/payments/{world.delivered['payment_id']}"
    payment = assert_json(srv.call("GET", path, token=token), 200)
    refundable = payment["captured_amount"] - payment["refunded_amount"]
    assert refundable > 1, payment
    body = assert_problem(srv.call("POST", path + "/refunds", {"amount": refundable + 1, "reason": "too much"},
                                   token=token), 422, "unprocessable")
    assert body["refundable_amount"] == refundable, body
    assert assert_json(srv.call("GET", path, token=token), 200) == payment
    # After a partial refund, the first amount is over what is left.
    assert_json(srv.call("POST", path + "/refunds", {"amount": 1, "reason": "part"}, token=token), 201)
    partial = assert_json(srv.call("GET", path, token=token), 200)
    body = assert_problem(srv.call("POST", path + "/refunds", {"amount": refundable, "reason": "the rest and more"},
                                   token=token), 422, "unprocessable")
    assert body["refundable_amount"] == refundable - 1, body
    assert assert_json(srv.call("GET", path, token=token), 200) == partial


def test_api6_a_payment_that_was_not_captured_cannot_be_refunded(world):
    srv, token = world.server, world.operator
    path = f"/api/v1/payments/{world.confirmed['payment_id']}"
    payment = assert_json(srv.call("GET", path, token=token), 200)
    assert payment["status"] == "authorized", payment
    body = assert_problem(srv.call("POST", path + "/refunds", {"amount": 1, "reason": "nothing captured"},
                                   token=token), 409, "conflict")
    assert body["current_status"] == "authorized", body
    assert assert_json(srv.call("GET", path, token=token), 200) == payment


def test_api6_a_delivery_cannot_skip_its_pick_up_to_get_the_payment_captured(world):
    srv = world.server
    delivery = f"/api/v1/deliveries/{world.confirmed['delivery_id']}"
    before = world.settled()
    body = assert_problem(srv.call("POST", delivery + "/events", {"status": "delivered"}, token=world.courier_token),
                          409, "conflict")
    assert body["current_status"] == "assigned", body
    world.assert_unchanged(before, "a delivery reported delivered before its pick-up")


# --------------------------------------------------------------------------------------------
# API7 server side request forgery

URL_PARTS = {"url", "uri", "urls", "uris", "callback", "webhook", "redirect", "href", "link", "endpoint", "host",
             "hostname", "website", "avatar", "image", "feed", "fetch"}


def names_a_url(name: str) -> bool:
    parts = re.split(r"[_\-.]|(?<=[a-z])(?=[A-Z])", name)
    return any(p.lower() in URL_PARTS for p in parts) or name.lower().endswith(("url", "uri"))
URL_FORMATS = {"uri", "url", "uri-reference", "iri", "iri-reference", "uri-template", "hostname", "idn-hostname"}


def schema_nodes(schema: Any, path: str = "", seen: set | None = None) -> list[tuple[str, dict]]:
    """(path, node) of every schema node, $refs followed (once each)."""
    seen = set() if seen is None else seen
    if isinstance(schema, dict) and "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen = seen | {schema["$ref"]}
    node = deref(schema)
    if not isinstance(node, dict):
        return []
    out = [(path, node)]
    for name, sub in node.get("properties", {}).items():
        out += schema_nodes(sub, f"{path}.{name}", seen)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            out += schema_nodes(node[key], f"{path}[{key}]", seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for i, sub in enumerate(node.get(key, [])):
            out += schema_nodes(sub, f"{path}<{key}{i}>", seen)
    return out


# URLs a request carries that the server compares and never fetches: the redirect URI the
# authorization code was issued for (RFC 6749 §4.1.3).
NEVER_FETCHED = {("issueToken", "redirect_uri")}


@pytest.mark.parametrize("op", OPERATIONS, ids=ids(OPERATIONS))
def test_api7_no_request_member_or_parameter_takes_a_url(op):
    found = []
    for param in op.params:
        if names_a_url(param["name"]) and param["in"] != "header":
            found.append(f"parameter {param['name']}")
        for path, node in schema_nodes(param.get("schema", {}), param["name"]):
            if node.get("format") in URL_FORMATS:
                found.append(f"parameter {path}: format {node['format']}")
    for media, content in (op.body or {}).items():
        for path, node in schema_nodes(content.get("schema", {}), media):
            if node.get("format") in URL_FORMATS and (op.op_id, path.rsplit(".", 1)[-1]) not in NEVER_FETCHED:
                found.append(f"{path}: format {node['format']}")
            for name in node.get("properties", {}):
                if names_a_url(name) and (op.op_id, name) not in NEVER_FETCHED:
                    found.append(f"{path}.{name}")
    assert not found, f"{op.op_id} takes a URL (a server that fetches it is an SSRF): {found}"


SSRF_HEADERS = ("Referer", "Origin", "X-Forwarded-Host", "X-Original-URL", "X-Rewrite-URL", "X-Callback-Url", "Link",
                "Forwarded", "X-Forwarded-Server", "X-Host")


def with_urls(value: Any, schema: Any, url: str) -> Any:
    """value with every free-text string member (no pattern, format or enum; not an id) made a URL."""
    s = single_branch(merged(schema))
    if isinstance(value, dict):
        props = properties(s)
        return {k: (with_urls(v, props[k], url) if k in props and not k.endswith("_id") else v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [with_urls(v, s.get("items", {}), url) for v in value]
    if isinstance(value, str) and not ({"pattern", "format", "enum", "const"} & set(s)) \
            and s.get("maxLength", 10_000) >= len(url) and s.get("minLength", 0) <= len(url):
        return url
    return value


@pytest.mark.parametrize("op", OPERATIONS, ids=ids(OPERATIONS))
def test_api7_urls_in_a_request_are_never_fetched(world, listener, op):
    srv = world.server
    url = listener.url(f"/ssrf/{op.op_id}")
    seen = len(listener.hits)
    for req in happy_requests(world, op):
        if op.json_schema is not None and isinstance(req.body, dict):
            req.body = with_urls(req.body, op.json_schema, url)
        req.headers.update({h: url for h in SSRF_HEADERS})
        req.headers["X-Forwarded-Host"] = f"127.0.0.1:{listener.port}"
        req.headers["Forwarded"] = f"host=127.0.0.1:{listener.port};proto=http"
        target = srv.processes()[0] if op.operational and in_split() and op.path != "/livez" else srv
        resp = send(target, req)
        assert resp.status < 500, report(req, resp)
        assert listener.hits[seen:] == [], f"the server fetched {listener.hits[seen:]}: {report(req, resp)}"
    if op.method in WRITES:
        world.settled()  # the sagas those writes started, which carried the URLs too


# --------------------------------------------------------------------------------------------
# API8 security misconfiguration


@pytest.mark.gateway
@pytest.mark.parametrize("op", OPERATIONS, ids=ids(OPERATIONS))
def test_api8_successful_answers_carry_the_promised_headers(world, op):
    for req, resp in happy(world, op):
        declared = op.response(resp.status)
        promised = {name.lower(): deref(h) for name, h in (declared.get("headers") or {}).items()}
        assert resp.headers.get("x-request-id") == req.headers["X-Request-Id"], report(req, resp)
        assert "idempotent-replayed" not in resp.headers, report(req, resp)
        assert "www-authenticate" not in resp.headers, report(req, resp)
        if resp.status == 204 or not declared.get("content"):  # no body promised (204; RFC 7009's 200)
            assert not resp.raw, report(req, resp)
        else:
            assert media_type(resp) in declared["content"], report(req, resp)
        if "etag" in promised:
            etag = resp.headers.get("etag", "")
            assert re.fullmatch(r'"[0-9]+"', etag), f"ETag {etag!r}: {report(req, resp)}"
            if isinstance(resp.body, dict) and "version" in resp.body:
                assert etag == f'"{resp.body["version"]}"', report(req, resp)
        if "location" in promised:
            location = resp.headers.get("location", "")
            assert location.startswith("/api/v1/") and "//" not in location, f"Location {location!r}"
            assert isinstance(resp.body, dict) and location.endswith("/" + resp.body["id"]), report(req, resp)
        if "cache-control" in promised:
            assert "no-store" in resp.headers.get("cache-control", ""), report(req, resp)


def test_api8_token_answers_are_never_stored(world):
    """Every answer of /oauth/token, granted or refused, carries Cache-Control: no-store."""
    srv = world.server
    carol = world.scratch()["carol"]
    granted = srv.token_request({"grant_type": "password", "username": carol.email, "password": carol.password})
    world.refresh_tokens.add(assert_json(granted, 200)["refresh_token"])
    answers = [
        granted,
        srv.token_request({"grant_type": "refresh_token", "refresh_token": granted.body["refresh_token"]}),
        srv.token_request({"grant_type": "client_credentials", "client_id": srv.client_id,
                           "client_secret": srv.client_secret}),
        srv.token_request({"grant_type": "password", "username": carol.email, "password": "not her password"}),
        srv.token_request({"grant_type": "client_credentials", "client_id": srv.client_id,
                           "client_secret": "not the secret at all"}),
        srv.token_request({"grant_type": "implicit"}),
        srv.token_request({"grant_type": "refresh_token", "refresh_token": "owasp-not-a-refresh-token"}),
    ]
    if answers[1].status == 200:
        world.refresh_tokens.add(answers[1].body["refresh_token"])
    assert [a.status for a in answers] == [200, 200, 200, 400, 401, 400, 400], [describe(a) for a in answers]
    for answer in answers:
        assert "no-store" in answer.headers.get("cache-control", ""), describe(answer)


@pytest.mark.gateway
@pytest.mark.parametrize("op", OPERATIONS, ids=ids(OPERATIONS))
def test_api8_no_cross_origin_grant(world, op):
    """No CORS: neither an answer nor a preflight names an origin, a wildcard or credentials."""
    srv = world.server
    target = srv.processes()[0] if op.operational and in_split() and op.path != "/livez" else srv
    origin = "https://evil.example"
    answers = []
    if op.method == "GET" or op.body:  # a write is sent with a body refused before any effect
        req = world.request(op, world.best_caller(Case(op)), body=None)
        req.headers["Origin"] = origin
        if op.body:
            req.body = b"[]"
            req.content_type = "application/x-www-form-urlencoded" if op.form else "application/json"
        answers.append(send(target, req))
    preflight = target.call("OPTIONS", world.path(op), headers={
        "Origin": origin, "Access-Control-Request-Method": op.method,
        "Access-Control-Request-Headers": "authorization, content-type"})
    answers.append(preflight)
    for resp in answers:
        grants = {k: v for k, v in resp.headers.items() if k.startswith("access-control-")}
        assert not grants, f"CORS headers {grants}: {describe(resp)}"
    assert_problem(preflight, 405, "method-not-allowed")
    assert "OPTIONS" not in preflight.headers.get("allow", "").upper(), describe(preflight)


@pytest.mark.gateway
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["TRACE", "TRACK", "PROPFIND", "OPTIONS", "PUT", "DEBUG"])
def test_api8_methods_a_path_does_not_declare_are_405_problems(world, path, method):
    declared = {m.upper() for m in SPEC["paths"][path] if m in METHODS}
    if method in declared:
        pytest.skip(f"{path} declares {method}")  # none does today
    op = next(o for o in ALL_OPERATIONS if o.path == path)
    srv = world.server
    target = srv.processes()[0] if op.operational and in_split() and path != "/livez" else srv
    resp = target.call(method, world.path(op), headers={"Authorization": world.authorization("operator")})
    assert_problem(resp, 405, "method-not-allowed")
    allow = {m.strip().upper() for m in resp.headers.get("allow", "").split(",") if m.strip()}
    assert declared <= allow and method not in allow, describe(resp)


INTERNALS = re.compile(r"Traceback|\bstd::|nlohmann|boost::|\.(cpp|hpp|cc|py)\b|/src/|/home/|/usr/|/tmp/|"
                       r"\bSELECT\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|sqlite|postgres|SQLSTATE|"
                       r"AddressSanitizer|0x[0-9a-f]{8,}|what\(\)|terminate called|exception", re.IGNORECASE)


def hostile_requests(world: World, op: Op) -> list[Prepared]:
    caller = world.best_caller(Case(op))
    out = []
    if not op.public:
        out.append(world.request(op))  # no token
        req = world.request(op)
        req.authorization = "Bearer eyJhbGciOiJFUzI1NiJ9.eyJ4Ijp7fX0.AAAA"
        out.append(req)
    if op.body:
        for raw in (b'{"a":', b'{"a": 1e999999}', b"\xff\xfe", b'{"' + b"k" * 300 + b'": [[[[[[[[]]]]]]]]}'):
            req = world.request(op, caller)
            req.body = raw
            out.append(req)
        if op.json_schema is not None:
            body = world.body(op)
            out.append(world.request(op, caller, body={k: [{"$where": "1"}] for k in body}))
    for kind in op.kinds.values():
        for bad in ("' OR '1'='1' --", "x" * 300, "%00", "..%2f..%2fetc%2fpasswd", "${jndi:ldap://x}"):
            req = world.request(op, caller)
            req.path = world.path(op, {kind: "__BAD__"}).replace("__BAD__", urllib.parse.quote(bad, safe="%"))
            out.append(req)
    for name in op.query:
        out.append(world.request(op, caller, query=world.required_query(op) + [(name, "' OR 1=1 --\x00")]))
    return out


@pytest.mark.gateway
@pytest.mark.parametrize("op", OPERATIONS, ids=ids(OPERATIONS))
def test_api8_errors_reveal_no_internals(world, op):
    srv = world.server
    target = srv.processes()[0] if op.operational and in_split() and op.path != "/livez" else srv
    before = world.settled() if op.method in WRITES else None
    requests = hostile_requests(world, op) + [Prepared("DELETE" if op.method != "DELETE" else "PUT", world.path(op),
                                                         caller="anonymous")]  # and a method it does not take
    checked = 0
    for req in requests:
        resp = send(target, req)
        if resp.status < 400:
            continue  # a filter that is not validated and matches nothing, say
        checked += 1
        assert resp.status < 500, report(req, resp)
        body = assert_problem(resp, resp.status)
        leaked = INTERNALS.search(json.dumps({k: v for k, v in body.items() if k != "request_id"}))
        assert not leaked, f"{leaked.group(0)!r} in {report(req, resp)}"
        assert "x-powered-by" not in resp.headers, report(req, resp)
        assert not re.search(r"\d", resp.headers.get("server", "")), f"a server version: {describe(resp)}"
    assert checked, f"{op.op_id}: no error was provoked"
    world.assert_unchanged(before, f"{op.op_id} answered with errors")


LOCATION_OPS = [op for op in OPERATIONS
                if any("location" in {h.lower() for h in (deref(r).get("headers") or {})}
                       for s, r in op.responses.items() if s.startswith("2"))]


@pytest.mark.gateway
@pytest.mark.parametrize("op", LOCATION_OPS + [BY_ID["getOpenIdConfiguration"]],
                         ids=ids(LOCATION_OPS + [BY_ID["getOpenIdConfiguration"]]))
def test_api8_links_ignore_the_host_the_client_names(world, op):
    srv = world.server
    evil = "evil.example"
    for req in happy_requests(world, op):
        req.headers.update({"Host": evil, "X-Forwarded-Host": evil, "X-Forwarded-Proto": "https",
                            "Forwarded": f"host={evil};proto=https", "X-Original-URL": f"https://{evil}/"})
        resp = send(srv, req)
        assert 200 <= resp.status < 300, report(req, resp)
        links = [resp.headers.get("location", "")]
        if isinstance(resp.body, dict):
            links += [v for k, v in resp.body.items() if isinstance(v, str) and (k.endswith("_uri")
                                                                                  or k.endswith("_endpoint"))]
        for link in links:
            assert evil not in link and not link.startswith("http"), f"{link!r}: {report(req, resp)}"
        assert any(links), report(req, resp)


# --------------------------------------------------------------------------------------------
# API9 improper inventory management


@pytest.mark.gateway
@pytest.mark.parametrize("op", ALL_OPERATIONS, ids=ids(ALL_OPERATIONS))
def test_api9_every_documented_operation_is_served(world, op):
    srv = world.server
    req = world.request(op, body=None)
    if op.operational and in_split() and op.path != "/livez":
        # Operational endpoints belong to each process; the gateway never routes them (ADR 0015).
        hidden = send(srv, req)
        assert_problem(hidden, 404, "not-found")
        for process in srv.processes():
            resp = send(process, req)
            assert resp.status == 200, f"{process.module}: {report(req, resp)}"
        return
    resp = send(srv, req)
    assert resp.status not in (404, 405), f"documented, but not served: {report(req, resp)}"
    if resp.status >= 400:
        assert_problem(resp, resp.status)
    if not op.public:
        assert_problem(resp, 401, "unauthorized")  # routed, then refused for want of a token


TEMPLATES = [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in PATHS]


def documented(path: str) -> bool:
    """Whether a documented path template matches (an id segment matches anything)."""
    return any(t.match(path.split("?")[0]) for t in TEMPLATES)


@pytest.mark.gateway
@pytest.mark.parametrize("path", PATHS)
def test_api9_nothing_answers_beneath_a_documented_path(world, path):
    srv = world.server
    op = next(o for o in ALL_OPERATIONS if o.path == path)
    probes = [world.path(op) + s for s in ("/owasp-undocumented", "/owasp/deeper", ".json", "/", "/..;/admin")]
    probes = [p for p in probes if not documented(p)]  # "/x" under a collection is an id, not a route
    assert probes
    for probe in probes:
        resp = srv.call("GET", probe, token=world.operator)
        assert_problem(resp, 404, "not-found")


UNDOCUMENTED = ["/api", "/api/v1", "/api/v2/customers", "/api/v0/orders", "/v1/customers", "/api/v1/CUSTOMERS",
                "/admin", "/admin/", "/api/v1/admin", "/debug", "/debug/pprof/", "/debug/vars", "/actuator/health",
                "/api/v1/users", "/api/v1/accounts", "/api/v1/internal", "/internal", "/internal/v1",
                "/internal/v2/customers/x", "/.env", "/.git/config", "/server-status", "/swagger.json",
                "/swagger-ui/", "/api-docs", "/graphql", "/console", "/oauth/authorise", "/oauth/revocation",
                "/oauth/introspect", "/api/v1/catalog", "/api/v1/catalog/categories",
                "/api/v1/couriers/me/deliveries/all", "/.well-known/oauth-authorization-server"]
assert not [p for p in UNDOCUMENTED if documented(p)], "a probe that a documented template matches"
DOT_SEGMENTS = ["/api/v1/orders/x/../..", "/api/v1/customers/..;/admin/..", "/api/v1/./customers"]
GATEWAY_HIDDEN = ["/metrics", "/readyz", "/version", "/openapi.yaml"]


@pytest.mark.gateway
@pytest.mark.parametrize("path", UNDOCUMENTED + DOT_SEGMENTS + GATEWAY_HIDDEN)
def test_api9_undocumented_paths_are_not_served(world, path):
    if path in GATEWAY_HIDDEN and not in_split():
        pytest.skip("documented operational endpoint of the process (hidden only by the split shape's gateway)")
    srv = world.server
    for method in ("GET", "POST"):
        resp = srv.call(method, path, {} if method == "POST" else None, token=world.operator)
        if path in DOT_SEGMENTS:
            assert_problem(resp, 400, "bad-request")
        else:
            assert_problem(resp, 404, "not-found")


def code_routes() -> set[tuple[str, str]]:
    """(method, path with {}) of every route the server's code registers."""
    out = set()
    for source in glob.glob(os.path.join(REPO, "src", "**", "*.cpp"), recursive=True):
        if f"{os.sep}tests{os.sep}" in source:
            continue
        with open(source, encoding="utf-8") as f:
            for method, path in re.findall(r'router\.add\(\s*"([A-Z]+)"\s*,\s*"([^"]+)"', f.read()):
                out.add((method, re.sub(r"\{[^}]+\}", "{}", path)))
    return out


def test_api9_every_route_in_the_code_is_documented_or_internal():
    documented = {(op.method, re.sub(r"\{[^}]+\}", "{}", op.path)) for op in ALL_OPERATIONS}
    routes = code_routes()
    assert len(routes) >= len(documented), routes
    hidden = sorted(r for r in routes - documented if not r[1].startswith("/internal/"))
    assert not hidden, f"routes the document does not show: {hidden}"
    missing = sorted(documented - routes)
    assert not missing, f"documented operations no code registers: {missing}"


# --------------------------------------------------------------------------------------------
# API10 unsafe consumption of APIs: key sources named by a token are never consumed


@pytest.mark.remote
@pytest.mark.parametrize("case", SECURED, ids=ids(SECURED))
def test_api10_a_token_naming_its_own_key_source_is_refused_and_nothing_is_fetched(world, listener, case):
    srv, op = world.server, case.op
    header, claims, _ = decode_jwt(world.operator)
    now = int(time.time())
    live = dict(claims, iat=now, nbf=now, exp=now + 600)
    jwk = listener.jwk
    own = {"alg": "ES256", "typ": "at+jwt", "kid": jwk["kid"]}
    tokens = {
        "jku": es256(listener.key, dict(own, jku=listener.url("/jwks.json")), live),
        "x5u": es256(listener.key, dict(own, x5u=listener.url("/cert.pem")), live),
        "embedded-jwk": es256(listener.key, dict(own, jwk={k: jwk[k] for k in ("kty", "crv", "x", "y")}), live),
        "jku-our-kid": es256(listener.key, dict(header, jku=listener.url("/jwks.json")), live),
        "kid-as-url": es256(listener.key, dict(own, kid=listener.url("/jwks.json")), live),
    }
    seen = len(listener.hits)
    before = world.settled() if op.method in WRITES else None
    for name, token in tokens.items():
        req = world.request(op, query=world.required_query(op) + list(case.query))
        req.authorization = f"Bearer {token}"
        resp = send(srv, req)
        assert_problem(resp, 401, "unauthorized")
        assert 'error="invalid_token"' in resp.headers.get("www-authenticate", ""), f"{name}: {report(req, resp)}"
    assert listener.hits[seen:] == [], f"a key source named by a token was fetched: {listener.hits[seen:]}"
    world.assert_unchanged(before, f"{case.name} with self-keyed tokens")


def test_zz_api7_api10_nothing_was_fetched_afterwards(listener):
    """Background work (sagas, events) had time to fetch a URL the requests above carried: none did."""
    time.sleep(1.0)
    assert listener.hits == [], f"the server fetched {listener.hits}"


def test_zz_the_process_survived_the_suite(world):
    srv = world.server
    assert srv.running, srv.output_tail()
    assert srv.call("GET", "/livez").status == 200
    for process in srv.processes():
        assert process.call("GET", "/readyz").status == 200
    sanitizer = [line for line in getattr(srv, "stderr_lines", [])
                 if "AddressSanitizer" in line or "runtime error:" in line or "LeakSanitizer" in line]
    assert not sanitizer, "\n".join(sanitizer[:40])
