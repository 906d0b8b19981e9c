"""PostgreSQL's restore drill (issue 17, ADR 0037): continuous WAL archiving and base backups by
pgBackRest, and a point-in-time restore into a destroyed data directory.

A throw-away PostgreSQL archiving to a pgBackRest repository (scripts/local-pgbackrest.sh, which
the runbook's procedure follows command for command), one deliveryhub process on it, orders
placed from four threads throughout: a full base backup while they come, an incremental one,
a recovery target T recorded strictly between two acknowledged orders, more orders, a WAL switch
archived; then deliveryhub and PostgreSQL stopped, the data directory destroyed, the repository
restored to T and promoted, PostgreSQL and deliveryhub started again. Every order acknowledged
before T is there, none sent after T is, the sagas in flight at T finish, the invariant checker
is clean, and the new timeline archives. RTO and RPO are measured and printed (`-s`).

Starts its own PostgreSQL (never DELIVERYHUB_TEST_POSTGRES's: that one does not archive), so it
lives apart from tests/integration, whose harness and helpers it imports. About 30 s (a minute
with three side by side on two cores); ctest gives it 180 s.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import Server, wait_for  # tests/integration's harness (./conftest.py)
from test_backup import Orders, assert_restored
from test_invariants import setup_shop

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

SCRIPT = os.path.join(REPO, "scripts", "local-pgbackrest.sh")


def pgbackrest(*args, timeout=120):
    """scripts/local-pgbackrest.sh ARGS; asserts success, returns stdout."""
    run = subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"local-pgbackrest.sh {' '.join(args)}: {run.returncode}\n{run.stdout}{run.stderr}"
    return run.stdout.strip()


def psql(url, sql):
    run = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def pg_time(seconds):
    """A Unix time as a PostgreSQL timestamp with zone (microseconds, UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1e6):06d}+00"


@pytest.fixture
def postgres():
    if shutil.which("pgbackrest") is None:
        pytest.fail("pgbackrest is not installed (scripts/install-deps.sh installs it)")
    # DIR under /tmp, as tests/support/with-postgres.sh's: as root, the server's user must reach it.
    folder = tempfile.mkdtemp(prefix="deliveryhub-pitr-", dir="/tmp")
    try:
        yield folder, pgbackrest("start", folder, timeout=90)
    finally:
        subprocess.run(["bash", SCRIPT, "stop", folder], capture_output=True, timeout=90)


def acknowledged_count_grows(orders, by, what):
    target = len(orders.acknowledged) + by
    wait_for(lambda: len(orders.acknowledged) >= target, 60, what)


def test_a_point_in_time_restore_keeps_what_was_acknowledged_before_the_target(postgres):
    folder, admin = postgres
    psql(admin, "CREATE DATABASE deliveryhub")
    database = admin.rsplit("/", 1)[0] + "/deliveryhub"
    server = Server(database_url=database)
    server.start()
    try:
        drill(folder, admin, database, server)
    finally:
        server.stop(check=False)


def drill(folder, admin, database, server):
    shop = setup_shop(server)
    with Orders(server, shop) as orders:
        acknowledged_count_grows(orders, 30, "30 orders acknowledged before the full backup")
        began = time.monotonic()
        pgbackrest("backup", folder, "full")  # under load: a base backup of a database taking writes
        full_s = time.monotonic() - began
        acknowledged_count_grows(orders, 20, "20 orders acknowledged after the full backup")
        began = time.monotonic()
        pgbackrest("backup", folder, "incr")
        incr_s = time.monotonic() - began
        acknowledged_count_grows(orders, 20, "20 orders acknowledged after the incremental backup")
        # pgBackRest picks the newest backup that stopped before the target, to the second: T
        # after the incremental backup's second, so that the restore must start from it.
        backups = json.loads(pgbackrest("info", folder))[0]["backup"]
        assert [b["type"] for b in backups] == ["full", "incr"], backups
        wait_for(lambda: time.time() >= backups[1]["timestamp"]["stop"] + 1.1, 5, "the next second")
        target = time.time()
        lsn_at_target = psql(admin, "SELECT pg_current_wal_lsn()")
        time.sleep(0.2)
        acknowledged_count_grows(orders, 30, "30 orders acknowledged after the target")
        # The moment of the loss: WAL written but not yet archived is what a lost disk would lose.
        lsn_now, archived_wal, archived_age = psql(admin, (
            "SELECT pg_current_wal_lsn(), last_archived_wal, "
            "extract(epoch FROM now() - last_archived_time) FROM pg_stat_archiver")).split("|")
        now = time.time()

    # A on the earlier side of T, B on the later: both sides hold acknowledged orders.
    before = [oid for _, answered, oid in orders.acknowledged if answered < target]
    after = [oid for sent, _, oid in orders.acknowledged if sent > target]
    assert len(before) >= 60 and len(after) >= 20, (len(before), len(after))
    last_before = max(answered for _, answered, _ in orders.acknowledged if answered < target)
    first_after = min(sent for sent, _, _ in orders.acknowledged if sent > target)
    assert last_before < target < first_after

    # Everything up to now archived: a WAL switch, and its segment in the repository.
    switched = psql(admin, "SELECT pg_walfile_name(pg_switch_wal())")
    wait_for(lambda: psql(admin, "SELECT last_archived_wal FROM pg_stat_archiver") >= switched, 60,
             f"WAL segment {switched} archived", interval_s=0.2)
    # What a loss at `now` would have lost: the WAL after the last archived segment, in seconds at
    # the rate WAL was written since T, and the orders acknowledged in those seconds.
    unarchived_bytes = max(0, lsn_bytes(lsn_now) - segment_end(archived_wal))
    wal_rate = (lsn_bytes(lsn_now) - lsn_bytes(lsn_at_target)) / (now - target)
    exposed_s = unarchived_bytes / wal_rate
    exposed_orders = sum(1 for _, answered, _ in orders.acknowledged if now - exposed_s < answered <= now)

    # The loss: deliveryhub and PostgreSQL stopped, the data directory destroyed.
    lost_at = time.monotonic()
    server.send_signal()
    assert server.wait_exit() == 0, server.output_tail()
    pgbackrest("halt", folder)
    shutil.rmtree(os.path.join(folder, "data"))

    began = time.monotonic()
    pgbackrest("restore", folder, pg_time(target))
    restore_s = time.monotonic() - began
    with open(os.path.join(folder, "log", "deliveryhub-restore.log")) as log:  # the newest set before T
        chosen = [line for line in log if "restore backup set" in line]
    assert len(chosen) == 1 and f"restore backup set {backups[1]['label']}," in chosen[0], chosen
    began = time.monotonic()
    assert pgbackrest("start", folder, timeout=90) == admin  # replays to T, promotes
    recovery_s = time.monotonic() - began
    server.start()
    rto_s = time.monotonic() - lost_at

    # Nothing created after T at all (orders in flight at T included): created_at is set before
    # the commit, on this machine's clock, in milliseconds.
    newest_ms = int(psql(database, "SELECT max(created_at) FROM orders.orders_orders"))
    assert newest_ms <= target * 1000 + 1, (newest_ms, target)
    assert_restored(server, before, after)  # present, absent, sagas finish, invariants clean

    # The promoted cluster is on a new timeline and archives it: the next backup has its WAL.
    assert int(psql(admin, "SELECT timeline_id FROM pg_control_checkpoint()")) >= 2
    pgbackrest("check", folder)

    size_mib = int(psql(admin, "SELECT pg_database_size('deliveryhub')")) / 2**20
    print(f"\npitr: database {size_mib:.0f} MiB; full backup under load {full_s:.1f} s, incremental {incr_s:.1f} s")
    print(f"pitr: RTO {rto_s:.1f} s from the stop to deliveryhub ready (restore {restore_s:.1f} s, "
          f"PostgreSQL recovery to T and promotion {recovery_s:.1f} s)")
    print(f"pitr: RPO at the target: 0 of {len(before)} orders acknowledged before T lost, "
          f"{len(after)} sent after T absent; newest order kept created {target * 1000 - newest_ms:.0f} ms before T")
    print(f"pitr: had the disk been lost when the load stopped (before the forced switch): "
          f"{unarchived_bytes / 1024:.0f} KiB of WAL not yet archived, ≈ {exposed_s:.1f} s of writes at "
          f"{wal_rate / 1024:.0f} KiB/s, {exposed_orders} acknowledged orders; the last segment archived "
          f"{float(archived_age):.1f} s earlier (archive_timeout 60 s bounds it)")


def lsn_bytes(lsn):
    high, low = lsn.split("/")
    return int(high, 16) << 32 | int(low, 16)


def segment_end(wal_file):
    """Where the WAL segment a file of the archive names ends (16 MiB segments): the segment itself,
    or the one a backup label (`<segment>.<offset>.backup`) starts in."""
    return (int(wal_file[8:16], 16) * 0x100 + int(wal_file[16:24], 16) + 1) * 0x1000000
