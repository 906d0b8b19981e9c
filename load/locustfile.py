"""Load test of deliveryhub: users that behave like the business (load/README.md).

    locust -f load/locustfile.py --host http://127.0.0.1:8080   (load/run.sh does it all)

Three kinds of user, by weight (env LOAD_WEIGHTS="customers,couriers,operators", 90,8,2):

- CustomerUser registers once, signs in (password grant) and adds an address in the load zone,
  then browses the catalog, places orders (a fresh Idempotency-Key each; tok_visa, sometimes
  tok_declined), polls each order until its saga settles, follows its confirmed orders until they
  are delivered, lists its orders, sometimes cancels, sometimes opens an incident on a delivered
  order.
- CourierUser signs in as one of the couriers made at set-up (LOAD_COURIERS, by default as many as
  there will be CourierUsers), which the back office then puts on shift (available), and moves its
  assigned deliveries along: picked_up, then delivered.
- OperatorUser lists orders, reads the summary and resolves open incidents with a refund.

Set-up (once per run, `test_start`, as the operator OPERATOR_EMAIL / OPERATOR_PASSWORD): a zone
serving LOAD_POSTAL_PREFIX, three products and the couriers (offline until their user starts). Expected business answers (an order
paid with tok_declined ends rejected/payment_declined, 409 on cancelling a picked-up order, 409 on
resolving an incident already settled or whose capture has not landed yet, 429 on registration)
count as successes; they are tallied in the outcomes file (LOAD_OUTCOMES) instead. Optional
per-request log (LOAD_REQUEST_LOG, CSV), a log of 5xx answers and unexpected failures with
their bodies (LOAD_ERROR_LOG), and a log of the orders the server acknowledged (LOAD_ORDER_LOG).
"""
import csv
import gc
import itertools
import json
import logging
import os
import random
import threading
import time
import uuid
from collections import Counter

import gevent
import requests
from locust import HttpUser, between, events, task

log = logging.getLogger("deliveryhub-load")

OPERATOR_EMAIL = os.environ.get("OPERATOR_EMAIL", "ops@example.com")
OPERATOR_PASSWORD = os.environ.get("OPERATOR_PASSWORD", "change me please")
RUN_ID = os.environ.get("LOAD_RUN_ID") or uuid.uuid4().hex[:8]
POSTAL_PREFIX = os.environ.get("LOAD_POSTAL_PREFIX", "28")
COURIER_CAPACITY = int(os.environ.get("LOAD_COURIER_CAPACITY", "10"))
DECLINED_SHARE = float(os.environ.get("LOAD_DECLINED_SHARE", "0.1"))
CANCEL_SHARE = float(os.environ.get("LOAD_CANCEL_SHARE", "0.08"))
INCIDENT_SHARE = float(os.environ.get("LOAD_INCIDENT_SHARE", "0.15"))
REFUND_AMOUNT = 200  # minor units; every product costs more, so one refund per order always fits
SAGA_POLL_LIMIT_S = float(os.environ.get("LOAD_SAGA_POLL_LIMIT", "30"))
_weights = [int(w) for w in os.environ.get("LOAD_WEIGHTS", "90,8,2").split(",")]
CUSTOMER_PASSWORD = "load customer password"
COURIER_PASSWORD = "load courier password"
PRODUCTS = [  # sku, name, price (EUR cents)
    ("LOAD-PIZZA", "Pizza margherita", 1250),
    ("LOAD-SALAD", "Ensalada mixta", 850),
    ("LOAD-DRINK", "Agua con gas", 250),
]
FINAL = {"delivered", "rejected", "cancelled"}
SAGA_RUNNING = {"pending", "payment_authorized"}

# Filled by the set-up, read by the users.
SETUP = {"zone_id": None, "couriers": [], "skus": [p[0] for p in PRODUCTS]}
_courier_seq = itertools.count()
_customer_seq = itertools.count()

# Business outcomes: what the run did, beyond Locust's request counts (written at test_stop).
OUTCOMES = Counter()
SAGA_SECONDS = []  # placement → confirmed/rejected as the customer saw it (poll granularity ~1 s)
_lock = threading.Lock()


def outcome(key, n=1):
    OUTCOMES[key] += n


# ---------------------------------------------------------------------------------------------
# The load generator's own pauses: a full (generation 2) garbage collection stops every greenlet,
# and the requests in flight then look slower than the server made them. Timed here, reported in
# the outcomes file, so that such stalls are not read as the server's.

GC_PAUSES = []  # (unix time, ms) of generation-2 collections over 20 ms
_gc_started = [0.0]


def _gc_watch(phase, info):
    if info.get("generation") != 2:
        return
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        ms = (time.perf_counter() - _gc_started[0]) * 1000
        OUTCOMES["gc_gen2_collections"] += 1
        OUTCOMES["gc_gen2_total_ms"] += int(ms)
        OUTCOMES["gc_gen2_max_ms"] = max(OUTCOMES["gc_gen2_max_ms"], int(ms))
        if ms > 20 and len(GC_PAUSES) < 500:
            GC_PAUSES.append((round(time.time(), 3), round(ms, 1)))


gc.callbacks.append(_gc_watch)

# Locust is one Python process: with a couple of thousand users its full collections grow to
# hundreds of ms (every user's objects are scanned). Freezing what lives now (gc.freeze: the
# users, their sessions) every few seconds keeps them out of later scans; short-lived objects are
# still freed. LOAD_GC_FREEZE=0 turns it off.
GC_FREEZE = os.environ.get("LOAD_GC_FREEZE", "1") == "1"
# The event loop's lag: a greenlet asks to wake every 100 ms and records how late it wakes. Late
# wake-ups mean every response waited that long to be read: time the server did not spend.
LAG_LOG = os.environ.get("LOAD_LAG_LOG")


def _housekeeping():
    out = open(LAG_LOG, "w", buffering=1) if LAG_LOG else None
    if out:
        out.write("t,lag_ms\n")
    last_freeze = time.time()
    while True:
        asked = time.perf_counter()
        gevent.sleep(0.1)
        lag = (time.perf_counter() - asked - 0.1) * 1000
        if out:
            out.write(f"{time.time():.3f},{max(lag, 0):.1f}\n")
        if GC_FREEZE and time.time() - last_freeze >= 5:
            gc.freeze()
            last_freeze = time.time()

# ---------------------------------------------------------------------------------------------
# Logs: every request (optional), and the 5xx / unexpected failures with their bodies.

_request_log = None
_error_log = None
_error_lines = 0
_order_log = None
ERROR_LOG_MAX = 200


@events.init.add_listener
def _open_logs(environment, **_):
    global _request_log, _error_log, _order_log
    path = os.environ.get("LOAD_REQUEST_LOG")
    if path:
        f = open(path, "w", newline="", buffering=1 << 16)
        _request_log = (f, csv.writer(f))
        _request_log[1].writerow(["t", "type", "name", "ms", "status", "ok", "users"])
    path = os.environ.get("LOAD_ERROR_LOG")
    if path:
        _error_log = open(path, "w", buffering=1)
    path = os.environ.get("LOAD_ORDER_LOG")
    if path:
        f = open(path, "w", newline="", buffering=1)
        _order_log = csv.writer(f)
        _order_log.writerow(["t", "event", "order_id", "payment"])


def log_order(event, order_id, payment=""):
    """What the server acknowledged about an order (LOAD_ORDER_LOG): `placed` for a 201, `cancelled`
    for a 200 on cancel; chaos/ checks afterwards that every one of them is in the database so."""
    if _order_log is not None:
        _order_log.writerow([f"{time.time():.3f}", event, order_id, payment])


def _log_error(kind, method, url, status, body, request_id, note=""):
    global _error_lines
    if _error_log is None or _error_lines >= ERROR_LOG_MAX:
        return
    _error_lines += 1
    _error_log.write(json.dumps({"t": round(time.time(), 3), "kind": kind, "method": method, "url": url,
                                 "status": status, "request_id": request_id, "note": note,
                                 "body": (body or "")[:600]}) + "\n")


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, response=None, exception=None,
                start_time=None, url=None, **_):
    status = getattr(response, "status_code", 0) if response is not None else 0
    if _request_log is not None:
        runner = _env.runner if _env is not None else None
        _request_log[1].writerow([f"{start_time or time.time():.3f}", request_type, name, f"{response_time:.1f}",
                                  status, 0 if exception else 1, runner.user_count if runner else 0])
    if status >= 500 or (exception is not None and status < 500):
        body = ""
        rid = ""
        if response is not None:
            try:
                body = response.text
            except Exception:  # noqa: BLE001 - whatever the body was
                body = "<unreadable>"
            rid = response.headers.get("X-Request-Id", "") if response.headers is not None else ""
        _log_error("5xx" if status >= 500 else "failure", request_type, url or name, status, body, rid,
                   str(exception) if exception else "")


_env = None


@events.init.add_listener
def _keep_env(environment, **_):
    global _env
    _env = environment


# ---------------------------------------------------------------------------------------------
# Set-up, once per run, as the operator (plain `requests`: not counted in the statistics).

def _operator_token(host):
    r = requests.post(f"{host}/oauth/token", data={"grant_type": "password", "username": OPERATOR_EMAIL,
                                                   "password": OPERATOR_PASSWORD}, timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"operator sign-in: {r.status_code} {r.text[:300]}")
    return r.json()["access_token"]


def _find_zone(host, headers):
    cursor = None
    while True:
        params = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        r = requests.get(f"{host}/api/v1/zones", params=params, headers=headers, timeout=30)
        r.raise_for_status()
        page = r.json()
        for z in page["data"]:
            if POSTAL_PREFIX.upper() in z.get("postal_prefixes", []):
                return z["id"]
        cursor = page.get("next_cursor")
        if not cursor:
            return None


def _find_courier(host, headers, email):
    cursor = None
    while True:
        params = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        r = requests.get(f"{host}/api/v1/couriers", params=params, headers=headers, timeout=30)
        r.raise_for_status()
        page = r.json()
        for c in page["data"]:
            if c.get("email") == email:
                return c["id"]
        cursor = page.get("next_cursor")
        if not cursor:
            raise RuntimeError(f"courier {email} exists but is not listed")


def _set_courier_status(host, headers, courier_id, status):
    r = requests.patch(f"{host}/api/v1/couriers/{courier_id}", headers=headers, timeout=30, json={"status": status})
    if r.status_code != 200:
        raise RuntimeError(f"courier {courier_id} → {status}: {r.status_code} {r.text[:300]}")


def expected_couriers(num_users):
    """LOAD_COURIERS, else as many couriers as Locust will start CourierUsers at num_users."""
    if os.environ.get("LOAD_COURIERS"):
        return int(os.environ["LOAD_COURIERS"])
    return max(1, round((num_users or 1) * _weights[1] / max(sum(_weights), 1)))


def setup_business(host, n_couriers):
    """Zone, products and couriers; reuses what an earlier run on the same server made."""
    headers = {"Authorization": f"Bearer {_operator_token(host)}"}
    r = requests.post(f"{host}/api/v1/zones", headers=headers, timeout=30,
                      json={"name": f"Load zone {POSTAL_PREFIX}", "postal_prefixes": [POSTAL_PREFIX]})
    if r.status_code == 201:
        zone_id = r.json()["id"]
    elif r.status_code == 409:
        zone_id = _find_zone(host, headers)
    else:
        raise RuntimeError(f"zone: {r.status_code} {r.text[:300]}")
    if not zone_id:
        raise RuntimeError(f"no zone serves prefix {POSTAL_PREFIX}")
    for sku, name, price in PRODUCTS:
        r = requests.post(f"{host}/api/v1/catalog/products", headers=headers, timeout=30,
                          json={"sku": sku, "name": name, "price": price, "currency": "EUR"})
        if r.status_code not in (201, 409):
            raise RuntimeError(f"product {sku}: {r.status_code} {r.text[:300]}")
    # The couriers start offline: each goes on shift (available) when its CourierUser starts, so
    # no delivery is dispatched to a courier nobody plays (it would never move).
    couriers = []
    for i in range(n_couriers):
        email = f"courier-{i}-{RUN_ID}@load.example.com"
        r = requests.post(f"{host}/api/v1/couriers", headers=headers, timeout=30,
                          json={"name": f"Courier {i}", "email": email, "password": COURIER_PASSWORD,
                                "zone_id": zone_id, "capacity": COURIER_CAPACITY})
        if r.status_code == 201:
            courier_id = r.json()["id"]
        elif r.status_code == 409:
            courier_id = _find_courier(host, headers, email)
        else:
            raise RuntimeError(f"courier {i}: {r.status_code} {r.text[:300]}")
        _set_courier_status(host, headers, courier_id, "offline")
        couriers.append((email, courier_id))
    # Builds before the operators' dashboard route answer 404 there (as for an unknown order id).
    r = requests.get(f"{host}/api/v1/orders/summary", headers=headers, timeout=30)
    SETUP["summary"] = r.status_code == 200
    if not SETUP["summary"]:
        log.warning("GET /api/v1/orders/summary answers %s: this binary has no summary; operators skip it",
                    r.status_code)
        OUTCOMES["summary_route_missing"] = 1
    SETUP.update(zone_id=zone_id, couriers=couriers, host=host, operator_headers=headers)
    log.info("set-up: zone %s (prefix %s), %d products, %d couriers (offline until on shift) of capacity %d, "
             "run id %s",
             zone_id, POSTAL_PREFIX, len(PRODUCTS), len(couriers), COURIER_CAPACITY, RUN_ID)


@events.test_start.add_listener
def _setup(environment, **_):
    gevent.spawn(_housekeeping)
    started = time.time()
    try:
        num_users = getattr(environment.parsed_options, "num_users", None) if environment.parsed_options else None
        setup_business(environment.host.rstrip("/"), expected_couriers(num_users))
    except Exception as e:  # noqa: BLE001 - any set-up failure ends the run
        log.error("set-up failed: %s", e)
        environment.process_exit_code = 2
        if environment.runner is not None:
            gevent.spawn_later(0.1, environment.runner.quit)
        return
    OUTCOMES["setup_seconds_x1000"] = int((time.time() - started) * 1000)


@events.test_stop.add_listener
def _write_outcomes(environment, **_):
    path = os.environ.get("LOAD_OUTCOMES")
    saga = sorted(SAGA_SECONDS)

    def pct(p):
        return round(saga[min(len(saga) - 1, int(p * len(saga)))], 3) if saga else None
    data = {"run_id": RUN_ID, "outcomes": dict(sorted(OUTCOMES.items())), "gc_pauses_over_20ms": GC_PAUSES,
            "saga_seen_seconds": {"count": len(saga), "p50": pct(0.5), "p95": pct(0.95), "max": saga[-1] if saga else None}}
    log.info("outcomes: %s", json.dumps(data))
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=2)
    if _request_log is not None:
        _request_log[0].flush()


# ---------------------------------------------------------------------------------------------

def _problem(response):
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - not JSON
        return {}


def _retry_after(response, default=5.0):
    try:
        return float(response.headers.get("Retry-After", default))
    except ValueError:
        return default


class _SignedIn(HttpUser):
    abstract = True
    token = None
    token_expires = 0.0

    def sign_in(self, email, password):
        with self.client.post("/oauth/token", name="/oauth/token", catch_response=True,
                              data={"grant_type": "password", "username": email, "password": password}) as r:
            if r.status_code == 200:
                body = r.json()
                self.token = body["access_token"]
                self.token_expires = time.time() + float(body.get("expires_in", 900))
                r.success()
                return True
            r.failure(f"sign-in {r.status_code}")
            return False

    def post(self, url, name, body, judge):
        """POST with a fresh Idempotency-Key; judge(r) marks the answer and returns the result.
        A 503 (Retry-After) is a failure, then the same request (same key) is sent once more after
        Retry-After, as a well-behaved client would: outcomes count how the retries ended."""
        key = str(uuid.uuid4())
        for attempt in (1, 2):
            with self.client.post(url, name=name, catch_response=True, json=body,
                                  headers=self.auth({"Idempotency-Key": key})) as r:
                if r.status_code == 503 and attempt == 1:
                    r.failure(f"{name} 503 {_problem(r).get('detail', '')[:60]}")
                    outcome(f"503 on POST {name}")
                    wait = min(_retry_after(r, 1), 5)
                else:
                    if attempt == 2:
                        outcome(f"503 retried: {'ok' if r.status_code < 400 else r.status_code}")
                    return judge(r)
            gevent.sleep(wait)
        return None

    def auth(self, extra=None):
        if time.time() > self.token_expires - 30:
            self.sign_in(*self.credentials)
        h = {"Authorization": f"Bearer {self.token}"}
        if extra:
            h.update(extra)
        return h


class CustomerUser(_SignedIn):
    """A customer: signs up once, then browses, orders, follows, sometimes cancels or complains."""
    weight = _weights[0]
    wait_time = between(2, 6)

    def on_start(self):
        self.customer_id = None
        self.address_id = None
        self.open_orders = []      # confirmed / dispatched: waiting for the courier
        self.delivered = []        # delivered, no incident opened yet
        self.skus = list(SETUP["skus"])
        n = next(_customer_seq)
        email = f"customer-{n}-{RUN_ID}@load.example.com"
        self.credentials = (email, CUSTOMER_PASSWORD)
        while self.customer_id is None:
            with self.client.post("/api/v1/customers", name="/api/v1/customers", catch_response=True,
                                  json={"email": email, "password": CUSTOMER_PASSWORD, "name": f"Load customer {n}"}) as r:
                if r.status_code == 201:
                    self.customer_id = r.json()["id"]
                    r.success()
                elif r.status_code == 429:
                    # The registration throttle per client address: the business's answer.
                    r.success()
                    outcome("registration_throttled_429")
                    wait = min(_retry_after(r, 60), 60)
                else:
                    r.failure(f"registration {r.status_code}")
                    wait = 5
            if self.customer_id is None:
                self.browse()  # anonymous visitors still browse
                gevent.sleep(wait)
        if not self.sign_in(*self.credentials):
            self.customer_id = None
            return
        with self.client.post(f"/api/v1/customers/{self.customer_id}/addresses", catch_response=True,
                              name="/api/v1/customers/{id}/addresses", headers=self.auth(),
                              json={"label": "Home", "line1": f"Calle Mayor {n % 200 + 1}", "city": "Madrid",
                                    "postal_code": f"{POSTAL_PREFIX}{n % 1000:03d}", "country": "ES"}) as r:
            if r.status_code == 201:
                self.address_id = r.json()["id"]
            else:
                r.failure(f"address {r.status_code}")

    def _ready(self):
        return self.customer_id is not None and self.address_id is not None

    @task(4)
    def browse(self):
        with self.client.get("/api/v1/catalog/products?limit=50", name="/api/v1/catalog/products",
                             catch_response=True) as r:
            if r.status_code == 200:
                skus = [p["sku"] for p in r.json().get("data", []) if p["sku"].startswith("LOAD-")]
                if skus:
                    self.skus = skus
            else:
                r.failure(f"catalog {r.status_code}")

    @task(3)
    def place_order(self):
        if not self._ready():
            return
        if len(self.open_orders) >= 2:  # waits for what it ordered before ordering again
            return self.follow_order()
        declined = random.random() < DECLINED_SHARE
        items = [{"sku": s, "quantity": random.randint(1, 3)}
                 for s in random.sample(self.skus, random.randint(1, min(2, len(self.skus))))]

        def judge(r):
            if r.status_code != 201:
                r.failure(f"place order {r.status_code}")
                return None
            return r.json()["id"]
        order_id = self.post("/api/v1/orders", "/api/v1/orders", judge=judge,
                             body={"items": items, "address_id": self.address_id,
                                   "payment_method": "tok_declined" if declined else "tok_visa"})
        if order_id is None:
            return
        placed = time.time()
        outcome("orders_placed")
        log_order("placed", order_id, "tok_declined" if declined else "tok_visa")
        self.wait_for_saga(order_id, declined, placed)

    def wait_for_saga(self, order_id, declined, placed):
        """Polls the order about once a second until the saga settles (confirmed or rejected)."""
        while time.time() - placed < SAGA_POLL_LIMIT_S:
            gevent.sleep(random.uniform(0.8, 1.2))
            with self.client.get(f"/api/v1/orders/{order_id}", name="/api/v1/orders/{id}", catch_response=True,
                                 headers=self.auth()) as r:
                if r.status_code != 200:
                    r.failure(f"get order {r.status_code}")
                    continue
                order = r.json()
                status = order["status"]
                if status in SAGA_RUNNING:
                    continue
                SAGA_SECONDS.append(time.time() - placed)
                reason = order.get("rejection_reason")
                if declined:
                    if status == "rejected" and reason == "payment_declined":
                        outcome("declined_rejected_as_expected")
                    else:
                        r.failure(f"tok_declined order ended {status}/{reason}")
                        outcome("declined_wrong_outcome")
                    return
                if status == "rejected":
                    r.failure(f"tok_visa order rejected: {reason}")
                    outcome("visa_rejected")
                    return
                outcome("orders_confirmed")
                if random.random() < CANCEL_SHARE:
                    self.cancel(order_id)
                elif status not in FINAL:
                    self.open_orders.append(order_id)
                return
        outcome("saga_not_settled_in_time")
        _log_error("saga", "GET", f"/api/v1/orders/{order_id}", 0, "", "",
                   f"not settled {SAGA_POLL_LIMIT_S:.0f} s after placement")
        self.open_orders.append(order_id)

    def cancel(self, order_id):
        def judge(r):
            if r.status_code == 200:
                outcome("cancelled")
                log_order("cancelled", order_id)
            elif r.status_code == 409 and _problem(r).get("current_status") in ("dispatched", "delivered",
                                                                                   "delivery_failed"):
                r.success()  # the courier got there first: the business's correct answer
                outcome("cancel_refused_409")
                self.open_orders.append(order_id)
            else:
                r.failure(f"cancel {r.status_code} {_problem(r).get('current_status')}")
        self.post(f"/api/v1/orders/{order_id}/cancel", "/api/v1/orders/{id}/cancel", judge=judge,
                  body={"reason": "Changed my mind"})

    @task(3)
    def follow_order(self):
        if not self.open_orders:
            return
        order_id = self.open_orders[0]
        with self.client.get(f"/api/v1/orders/{order_id}", name="/api/v1/orders/{id}", catch_response=True,
                             headers=self.auth()) as r:
            if r.status_code != 200:
                r.failure(f"get order {r.status_code}")
                return
            status = r.json()["status"]
        if status in FINAL or status == "delivery_failed":
            self.open_orders.pop(0)
            if status == "delivered":
                outcome("orders_delivered_seen")
                if random.random() < INCIDENT_SHARE:
                    self.open_incident(order_id)
        else:
            self.open_orders.append(self.open_orders.pop(0))  # look at the next one next time

    def open_incident(self, order_id):
        def judge(r):
            if r.status_code == 201:
                outcome("incidents_opened")
            else:
                r.failure(f"open incident {r.status_code}")
        self.post("/api/v1/incidents", "/api/v1/incidents", judge=judge,
                  body={"order_id": order_id, "type": "damaged", "description": "The box arrived crushed"})

    @task(1)
    def list_orders(self):
        if not self._ready():
            return
        with self.client.get("/api/v1/orders?limit=20", name="/api/v1/orders", catch_response=True,
                             headers=self.auth()) as r:
            if r.status_code != 200:
                r.failure(f"list orders {r.status_code}")


class CourierUser(_SignedIn):
    """A courier's phone: looks at the assigned deliveries, picks them up, delivers them."""
    weight = _weights[1]
    wait_time = between(1, 3)
    credentials = None

    def on_start(self):
        if not SETUP["couriers"]:
            return
        n = next(_courier_seq)
        email, courier_id = SETUP["couriers"][n % len(SETUP["couriers"])]
        self.credentials = (email, COURIER_PASSWORD)
        if self.sign_in(*self.credentials) and n < len(SETUP["couriers"]):
            # On shift: the back office makes the courier available (set-up work, not counted).
            try:
                _set_courier_status(SETUP["host"], SETUP["operator_headers"], courier_id, "available")
                outcome("couriers_on_shift")
            except Exception as e:  # noqa: BLE001 - the courier just gets no new work
                log.error("%s", e)

    def move(self, delivery_id, status):
        def judge(r):
            if r.status_code == 201:
                outcome(f"deliveries_{status}")
                return True
            current = _problem(r).get("current_status")
            if r.status_code == 409 and (current == "cancelled" or current == status
                                         or (status == "picked_up" and current == "delivered")):
                # Cancelled by the customer meanwhile, or moved already by another phone of the
                # same courier (more courier users than couriers): the business's correct answer.
                r.success()
                outcome(f"delivery_{status}_refused_409_{current}")
            else:
                r.failure(f"delivery {status} {r.status_code} {current}")
            return False
        return bool(self.post(f"/api/v1/deliveries/{delivery_id}/events", "/api/v1/deliveries/{id}/events",
                              judge=judge, body={"status": status}))

    @task
    def round_trip(self):
        if self.token is None:
            if self.credentials:
                self.sign_in(*self.credentials)
            return
        with self.client.get("/api/v1/couriers/me/deliveries", name="/api/v1/couriers/me/deliveries",
                             catch_response=True, headers=self.auth()) as r:
            if r.status_code != 200:
                r.failure(f"my deliveries {r.status_code}")
                return
            deliveries = r.json().get("data", [])
        picked = [d["id"] for d in deliveries if d["status"] == "picked_up"]
        for d in deliveries:
            if d["status"] == "assigned":
                gevent.sleep(random.uniform(0.2, 0.8))
                if self.move(d["id"], "picked_up"):
                    picked.append(d["id"])
        for delivery_id in picked:
            gevent.sleep(random.uniform(0.3, 1.0))
            self.move(delivery_id, "delivered")


class OperatorUser(_SignedIn):
    """The back office: watches orders and the saga, settles the incident queue with refunds."""
    weight = _weights[2]
    wait_time = between(2, 5)

    def on_start(self):
        self.credentials = (OPERATOR_EMAIL, OPERATOR_PASSWORD)
        self.sign_in(*self.credentials)

    @task(3)
    def list_orders(self):
        with self.client.get("/api/v1/orders?limit=50", name="/api/v1/orders", catch_response=True,
                             headers=self.auth()) as r:
            if r.status_code != 200:
                r.failure(f"list orders {r.status_code}")

    @task(1)
    def summary(self):
        if not SETUP.get("summary", True):
            return
        with self.client.get("/api/v1/orders/summary", name="/api/v1/orders/summary", catch_response=True,
                             headers=self.auth()) as r:
            if r.status_code != 200:
                r.failure(f"summary {r.status_code}")

    @task(3)
    def incident_queue(self):
        with self.client.get("/api/v1/incidents?status=open&limit=20", name="/api/v1/incidents",
                             catch_response=True, headers=self.auth()) as r:
            if r.status_code != 200:
                r.failure(f"list incidents {r.status_code}")
                return
            incidents = r.json().get("data", [])
        for inc in incidents[:5]:
            gevent.sleep(random.uniform(0.2, 0.6))
            self.resolve(inc["id"])

    def resolve(self, incident_id):
        def judge(r):
            if r.status_code == 200:
                outcome("incidents_refunded")
                return
            problem = _problem(r)
            if r.status_code == 409 and problem.get("current_status") in ("resolved", "rejected"):
                r.success()  # another operator settled it first
                outcome("resolve_refused_409_settled")
            elif r.status_code == 409 and problem.get("refundable_amount") == 0:
                r.success()  # the capture has not landed yet (delivery.completed → payments): later
                outcome("resolve_refused_409_nothing_captured_yet")
            else:
                r.failure(f"resolve {r.status_code} {problem.get('detail', '')[:80]}")
        self.post(f"/api/v1/incidents/{incident_id}/resolve", "/api/v1/incidents/{id}/resolve", judge=judge,
                  body={"resolution": "refund", "amount": REFUND_AMOUNT})
