"""The chaos experiments (chaos/README.md): each a hypothesis, a fault and what must hold.

Every experiment runs in the split shape under a steady Locust load (load/locustfile.py): the
fault starts WARMUP_S after the load does and the load goes on AFTER_S after the fault ends.
Times are seconds. `expect_alerts` maps an alert of k8s/components/monitoring/alerts.yaml to the
highest state it must reach during the run, read from the local Prometheus's ALERTS series:
"firing", "pending" (pending, and never firing: the `for` of the rule outlasts the fault, so it
does not page) or "none" (neither). Any alert not listed must not fire.
"""
from dataclasses import dataclass, field

WARMUP_S = 45        # ramp (20 s) + steady state measured before the fault
AFTER_S = 60         # load after the fault ends: recovery is measured here
USERS = 100          # well under the split shape's knee (200–334 users, bench/RESULTS.md)
RAMP_S = 20
RESTART_DELAY_S = 5  # a killed process comes back after this, as a restarted container would
STEADY_WINDOW_S = 5  # recovery: 5-s windows with no failure and p95 within the bound below
BLAST_TAIL_S = 10    # the blast radius is judged from the fault's start to this long after its end

# Locust's request names (load/locustfile.py), by what serves them.
PLACE = "POST /api/v1/orders"
CANCEL = "POST /api/v1/orders/{id}/cancel"
ORDER_READS = ("GET /api/v1/orders", "GET /api/v1/orders/{id}", "GET /api/v1/orders/summary",
               "GET /api/v1/catalog/products")
SIGN_UP_IN = ("POST /oauth/token", "POST /api/v1/customers", "POST /api/v1/customers/{id}/addresses")
COURIER = ("GET /api/v1/couriers/me/deliveries", "POST /api/v1/deliveries/{id}/events")
INCIDENTS = ("GET /api/v1/incidents", "POST /api/v1/incidents", "POST /api/v1/incidents/{id}/resolve")
EVERY_ROUTE = ("*",)


@dataclass(frozen=True)
class Experiment:
    name: str
    hypothesis: str
    fault: str            # the action in chaos/inject.py
    target: str = ""      # a module, or what the fault acts on
    fault_s: int = 0      # nominal length of the fault (a kill's is its restart)
    params: dict = field(default_factory=dict)
    expect_alerts: dict = field(default_factory=dict)
    recover_within_s: int = 30   # back to steady state this soon after the fault ends
    # The blast radius: the only routes allowed to fail while the fault lasts (and BLAST_TAIL_S
    # after); a failure of any other route disproves the hypothesis. ("*": every route.)
    affected: tuple = ()
    proxy: bool = False   # orders → payments through chaos/faultproxy.py


def _kill(module, affected, hypothesis, recover=30):
    return Experiment(
        name=f"kill-{module}", fault="kill", target=module, fault_s=RESTART_DELAY_S, affected=affected,
        hypothesis=hypothesis, recover_within_s=recover,
        expect_alerts={"DeliveryhubModuleDown": "pending"})


EXPERIMENTS = [
    _kill("customers", (PLACE, *SIGN_UP_IN),
          "The token issuer dies: sign-ups, sign-ins and placing an order (which reads the "
          "delivery address from customers) fail until it is back; every other route keeps "
          "answering for customers already signed in (every module checks tokens with keys it "
          "already holds); nothing acknowledged is lost; ModuleDown goes pending and, the process "
          "back within seconds, never pages."),
    _kill("orders", (PLACE, CANCEL, *ORDER_READS, "POST /api/v1/incidents", "POST /api/v1/incidents/{id}/resolve"),
          "The saga's owner dies mid-flight: order calls fail until it is back; the sagas it was "
          "running resume from their stored step (none stuck, none doubled); every 201 order is "
          "there afterwards; ModuleDown pending, no page."),
    _kill("payments", (PLACE, CANCEL, "POST /api/v1/incidents/{id}/resolve"),
          "Payments dies: orders' breaker opens and placement answers 503 with Retry-After at "
          "once instead of hanging; sagas waiting on a payment finish after the restart; no "
          "payment is authorised twice; ModuleDown pending, no page."),
    _kill("delivery", (*COURIER, CANCEL, *INCIDENTS),
          "Delivery dies: couriers' calls fail until it is back; orders are still taken and "
          "confirmed; dispatch events wait in the broker and are consumed after the restart, each "
          "once; ModuleDown pending, no page."),
    _kill("incidents", INCIDENTS,
          "Incidents dies: only incident routes fail; ordering and delivering go on unaffected; "
          "ModuleDown pending, no page."),
    Experiment(
        name="freeze-payments", fault="freeze", target="payments", fault_s=20,
        affected=(PLACE, CANCEL, "POST /api/v1/incidents/{id}/resolve"),
        hypothesis="Payments hangs (SIGSTOP, 20 s): orders' calls time out per attempt instead of "
                   "waiting with it, the breaker opens and placement answers 503 fast; when it "
                   "thaws, waiting sagas finish and nothing is charged twice; its /metrics stops "
                   "answering, so ModuleDown goes pending but does not page.",
        expect_alerts={"DeliveryhubModuleDown": "pending"}),
    Experiment(
        name="outage-payments", fault="kill", target="payments", fault_s=150,
        affected=(PLACE, CANCEL, "POST /api/v1/incidents/{id}/resolve"),
        hypothesis="Payments stays down 150 s (a crash loop): placement is refused with 503 while "
                   "it is down and every order taken before waits in `pending`; DeliveryhubModuleDown "
                   "and DeliveryhubCircuitBreakerOpen page; within 30 s of its return the waiting "
                   "sagas finish and placement is served again.",
        expect_alerts={"DeliveryhubModuleDown": "firing", "DeliveryhubCircuitBreakerOpen": "firing"}),
    Experiment(
        name="rabbitmq-stop", fault="rabbitmq", fault_s=60,
        hypothesis="The broker is stopped for 60 s: users see no error (every write commits with "
                   "its events in the module's outbox); deliveries are dispatched late; once the "
                   "broker is back the outboxes drain and every event is consumed once; "
                   "nothing pages for a one-minute blip.",
        expect_alerts={}),
    Experiment(
        name="postgres-restart", fault="postgres", fault_s=0, affected=EVERY_ROUTE,
        hypothesis="PostgreSQL restarts (fast shutdown, start): requests in flight fail with 503 "
                   "for the seconds it takes; every process reconnects by itself; no 201 order is "
                   "lost; no alert fires.",
        expect_alerts={}),
    Experiment(
        name="proxy-latency", fault="proxy", target="orders→payments", fault_s=60, proxy=True,
        params={"latency_ms": 300, "jitter_ms": 100},
        hypothesis="Every call from orders to payments takes 300 ± 100 ms longer for 60 s: no "
                   "user sees an error (placement does not wait on payments); sagas take longer "
                   "and the backlog grows, then drains within 30 s; no alert fires.",
        expect_alerts={}),
    Experiment(
        name="proxy-errors", fault="proxy", target="orders→payments", fault_s=130, proxy=True,
        affected=(PLACE, CANCEL),
        params={"error_rate": 0.5},
        hypothesis="Half the calls from orders to payments get a 503 for 130 s: calls are "
                   "retried, the breaker opens and placement is refused fast while it is open; "
                   "no order is charged twice or given away; CircuitBreakerOpen pages (its `for` "
                   "is 2 minutes), and recovery follows within 30 s of the fault's end.",
        expect_alerts={"DeliveryhubCircuitBreakerOpen": "firing"}),
    Experiment(
        name="proxy-drops", fault="proxy", target="orders→payments", fault_s=60, proxy=True,
        affected=(PLACE, CANCEL),
        params={"drop_rate": 0.3},
        hypothesis="30 % of the calls from orders to payments reach payments but their connection "
                   "is reset before the answer, for 60 s: an authorisation may have happened "
                   "without orders knowing; the saga retries under the same key and never charges "
                   "twice; the invariant checker is clean.",
        expect_alerts={}),
]

BY_NAME = {e.name: e for e in EXPERIMENTS}


def load_seconds(e: Experiment) -> int:
    """How long Locust runs for an experiment: warm-up, fault, recovery (a restart's time included)."""
    return WARMUP_S + e.fault_s + AFTER_S + (15 if e.fault in ("kill", "rabbitmq", "postgres") else 0)
