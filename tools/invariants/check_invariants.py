#!/usr/bin/env python3
"""Checks the business invariants of a deliveryhub database (issue 3), by hand or from tests.

    tools/invariants/check_invariants.py sqlite:/var/lib/deliveryhub/db.sqlite   # or a plain path
    tools/invariants/check_invariants.py postgresql://user@host:5432/deliveryhub  # needs psycopg2

Reads every module's tables (an operator's tool: it stands outside the module boundaries and
changes nothing; the database is opened read-only). Prints one line per violation and exits 1 if
there is any, 0 when the database is consistent:
  - every order in a terminal state has a consistent payment: nothing kept for cancelled or
    rejected orders (no live authorization, captured = refunded), captured = total for delivered
    ones, and for every payment refunded <= captured <= amount;
  - every refund payments made is recorded on its order (orders.refunded_amount);
  - no active delivery for a cancelled or rejected order; a delivered order's delivery is delivered;
  - no goods given away: a cancelled order has no delivered delivery, and every delivered delivery's
    order is charged in full (its payment captured for the order's total); the only refunds on an
    order whose goods were delivered are made through incidents;
  - every refund has a reason;
  - no saga left unfinished;
  - no event left undelivered in any module's outbox.
Run it when the system is quiet (sagas and outboxes drained): in flight, "unfinished" is normal.
"""
import json
import pathlib
import sqlite3
import sys

ACTIVE_DELIVERY = ("unassigned", "assigned", "picked_up")
# Every module has an outbox: the modules are the binary's (docs/modules.json, `deliveryhub modules --json`).
MODULES_WITH_OUTBOX = tuple(m["name"] for m in json.loads(
    (pathlib.Path(__file__).resolve().parents[2] / "docs/modules.json").read_text())["modules"])


class Store:
    """Read-only access to either backend: `execute` takes SQL with ? placeholders."""

    def __init__(self, target: str):
        self.postgres = target.startswith(("postgresql://", "postgres://"))
        if self.postgres:
            import psycopg2  # only needed for PostgreSQL (Debian: python3-psycopg2)
            self.errors = (psycopg2.Error,)
            schemas = ",".join(("public", *MODULES_WITH_OUTBOX, "core"))  # no spaces: libpq options
            self.db = psycopg2.connect(target, options=f"-c search_path={schemas}")
            self.db.set_session(readonly=True, autocommit=True)
        else:
            self.errors = (sqlite3.Error,)
            path = target[len("sqlite:"):] if target.startswith("sqlite:") else target
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        if not self.postgres:
            return self.db.execute(sql, params).fetchall()
        with self.db.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall()

    def tables(self) -> set[str]:
        if self.postgres:
            return {row[0] for row in self.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema <> 'information_schema'")}
        return {row[0] for row in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def violations(db: Store) -> list[str]:
    found: list[str] = []
    present = db.tables()
    orders = db.execute(
        "SELECT o.id, o.status, o.total, o.refunded_amount, p.id, p.status, p.amount, p.captured_amount, "
        "p.refunded_amount FROM orders_orders o LEFT JOIN payments_payments p ON p.order_id = o.id")
    for order_id, status, total, order_refunded, payment_id, pay_status, amount, captured, refunded in orders:
        where = f"order {order_id} ({status})"
        if payment_id is not None:
            if not (0 <= refunded <= captured <= amount):
                found.append(f"{where}: payment {payment_id} has refunded {refunded}, captured {captured}, "
                             f"amount {amount}")
            if order_refunded != refunded:
                found.append(f"{where}: refunds of {refunded} made, {order_refunded} recorded on the order")
        if status in ("cancelled", "rejected") and payment_id is not None:
            if pay_status == "authorized":
                found.append(f"{where}: payment {payment_id} is still authorized")
            if captured != refunded:
                found.append(f"{where}: payment {payment_id} keeps {captured - refunded} of the customer's money")
        if status == "delivered":
            if payment_id is None:
                found.append(f"{where}: no payment")
            elif captured != total:
                found.append(f"{where}: captured {captured} of a total of {total}")
    placeholders = ", ".join("?" for _ in ACTIVE_DELIVERY)
    for order_id, status, delivery_id, delivery_status in db.execute(
            "SELECT o.id, o.status, d.id, d.status FROM orders_orders o JOIN delivery_deliveries d "
            f"ON d.order_id = o.id WHERE o.status IN ('cancelled', 'rejected') AND d.status IN ({placeholders})",
            ACTIVE_DELIVERY):
        found.append(f"order {order_id} ({status}): delivery {delivery_id} is still {delivery_status}")
    for order_id, delivery_id, delivery_status in db.execute(
            "SELECT o.id, o.delivery_id, d.status FROM orders_orders o LEFT JOIN delivery_deliveries d "
            "ON d.id = o.delivery_id WHERE o.status = 'delivered' AND (d.status IS NULL OR d.status != 'delivered')"):
        found.append(f"order {order_id} (delivered): its delivery {delivery_id} is {delivery_status}")
    for order_id, status, delivery_id in db.execute(
            "SELECT o.id, o.status, d.id FROM orders_orders o JOIN delivery_deliveries d ON d.order_id = o.id "
            "WHERE o.status = 'cancelled' AND d.status = 'delivered'"):
        found.append(f"order {order_id} ({status}): delivery {delivery_id} was delivered")
    for order_id, status, total, delivery_id, payment_id, pay_status, captured in db.execute(
            "SELECT o.id, o.status, o.total, d.id, p.id, p.status, p.captured_amount FROM delivery_deliveries d "
            "JOIN orders_orders o ON o.id = d.order_id LEFT JOIN payments_payments p ON p.order_id = o.id "
            "WHERE d.status = 'delivered'"):
        if payment_id is None or captured != total:
            found.append(f"order {order_id} ({status}): goods given away — delivery {delivery_id} delivered, "
                         f"payment {payment_id} {pay_status} with {captured} of {total} captured")
    for order_id, payment_id, reason, amount in db.execute(
            "SELECT p.order_id, p.id, op.reason, op.amount FROM payments_operations op "
            "JOIN payments_payments p ON p.id = op.payment_id WHERE op.type = 'refund' AND op.succeeded = 1 "
            "AND EXISTS (SELECT 1 FROM delivery_deliveries d WHERE d.order_id = p.order_id "
            "AND d.status = 'delivered') AND op.reason NOT LIKE ?", ("incident %",)):
        found.append(f"order {order_id}: payment {payment_id} refunded {amount} of delivered goods outside an "
                     f"incident ({reason or 'no reason'})")
    for order_id, payment_id, amount in db.execute(
            "SELECT p.order_id, p.id, op.amount FROM payments_operations op "
            "JOIN payments_payments p ON p.id = op.payment_id WHERE op.type = 'refund' AND op.succeeded = 1 "
            "AND TRIM(op.reason) = ''"):
        found.append(f"order {order_id}: payment {payment_id} refunded {amount} with no reason")
    for order_id, step, attempts, error in db.execute(
            "SELECT order_id, step, attempts, last_error FROM orders_sagas WHERE finished_at IS NULL"):
        found.append(f"order {order_id}: saga unfinished at step {step} after {attempts} attempts ({error})")
    for module in MODULES_WITH_OUTBOX:
        if f"{module}_outbox" not in present:
            continue
        for event_id, event_type, attempts, error in db.execute(
                f"SELECT id, type, attempts, last_error FROM {module}_outbox WHERE delivered_at IS NULL"):
            found.append(f"{module} event {event_id} ({event_type}) undelivered after {attempts} attempts "
                         f"({error})")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        db = Store(argv[1])
    except Exception as error:  # noqa: BLE001 — a missing file, a refused connection, no psycopg2
        print(f"cannot open {argv[1]}: {error}", file=sys.stderr)
        return 2
    try:
        found = violations(db)
    except db.errors as error:
        print(f"cannot read {argv[1]}: {error}", file=sys.stderr)
        return 2
    for line in found:
        print(line)
    print(f"{len(found)} violation(s)" if found else "consistent", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
