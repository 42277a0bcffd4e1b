"""Audit benchmark (`make bench`): the auditor's browser vs the stock admin changelist at
millions of rows, and the append rate with the hash chain on vs off.

Uses its own database (<DATABASE_URL name>_audit_bench), migrated, filled with
BENCH_AUDIT_ROWS entries (default 5,000,000) by one INSERT ... SELECT generate_series
(secondary indexes dropped during the load and rebuilt after). BENCH_AUDIT_KEEP=1 keeps
the database for the next run (the load is then skipped); otherwise it is dropped.

1. Browser vs stock changelist, same table, same run, Django test client in-process
   (middleware, queries and rendering): first page; actor + date range; page 200 of an
   action filter (our keyset cursor vs the changelist's ?p=200). p50 of several runs.
2. Append rate: 4 writer threads calling audit.record (one entry per transaction), in
   alternating rounds without the sealer and with the sealer looping in its own process.
Prints figures; asserts correctness only.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("BENCH_AUDIT_ROWS", "5000000"))
KEEP = os.environ.get("BENCH_AUDIT_KEEP", "") == "1"
APPEND_SECONDS = float(os.environ.get("BENCH_SECONDS", "8")) * 2  # per mode, all rounds
ROUNDS = 4
WRITERS = 4
START = datetime(2024, 1, 1, tzinfo=UTC)
STEP_SECONDS = 12  # 5M entries span ~2 years
ACTIONS = [
    "voucher.redeemed",
    "voucher.issued",
    "voucher.voided",
    "campaign.started",
    "campaign.paused",
    "campaign.stopped",
    "incident.opened",
    "incident.step_run",
    "incident.resolved",
    "staff.created",
    "api_token.created",
    "station.created",
]
SECONDARY_INDEXES = {
    "audit_at_id": "(at, id)",
    "audit_actor_at": "(actor_name, at, id)",
    "audit_action_at": "(action, at, id)",
    "audit_target_at": "(target_type, target_id, at, id)",
    "audit_incident_at": "(incident_id, at, id)",
}

pytestmark = pytest.mark.slow


def _load(url: str) -> float:
    started = time.perf_counter()
    actions = "ARRAY[" + ",".join(f"'{a}'" for a in ACTIONS) + "]"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name in SECONDARY_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute(
            "INSERT INTO audit_auditentry (at, actor_id, actor_name, action, target_type,"
            " target_id, target_repr, incident_id, data, request_id)"
            f" SELECT %s::timestamptz + g * interval '{STEP_SECONDS} seconds', NULL,"
            "  'actor-' || (g %% 50),"
            f"  ({actions})[1 + (g / 7) %% {len(ACTIONS)}],"
            "  (ARRAY['vouchers.voucher','campaigns.campaign','incidents.incident',"
            "         'vouchers.station'])[1 + g %% 4],"
            "  (g %% 200000)::text, 'Object number ' || (g %% 200000),"
            "  CASE WHEN g %% 1000 = 0 THEN g / 1000 END,"
            "  jsonb_build_object('n', g, 'amount', 5000, 'currency', 'RWF'),"
            "  md5(g::text)"
            " FROM generate_series(1, %s) AS g",
            [START, ROWS],
        )
        for name, columns in SECONDARY_INDEXES.items():
            conn.execute(f"CREATE INDEX {name} ON audit_auditentry {columns}")
        conn.execute("VACUUM ANALYZE audit_auditentry")
        # The bulk rows are not sealed (the sealer is Python); the chain for the append
        # benchmark starts after them, from a bench-only anchor seal.
        conn.execute(
            "INSERT INTO audit_auditseal (entry_id, prev_hash, hash, sealed_at)"
            " SELECT max(id), repeat('0', 64), repeat('b', 64), now() FROM audit_auditentry"
        )
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def bench_db(django_db_blocker):
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsportal")
    parsed = urlparse(base)
    name = parsed.path.lstrip("/") + "_audit_bench"
    admin_url = parsed._replace(path="/postgres").geturl()
    url = parsed._replace(path=f"/{name}").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM audit_auditentry").fetchone()[0]
    if have < ROWS:
        if have:
            raise RuntimeError(f"{name} holds {have} rows; drop it to reload")
        print(f"\nloading {ROWS:,} audit entries ...", flush=True)
        print(f"loaded {ROWS:,} entries in {_load(url):.0f} s", flush=True)
    else:
        print(f"\nreusing {name} with {have:,} entries", flush=True)

    from django.db import connections

    connection = connections["default"]
    with django_db_blocker.unblock():
        connection.close()
        original = connection.settings_dict["NAME"]
        connection.settings_dict["NAME"] = name
        try:
            yield {"url": url, "env": env, "name": name}
        finally:
            connection.close()
            connection.settings_dict["NAME"] = original
    if not KEEP:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _p50(client, url, runs) -> float:
    response = client.get(url)  # warm
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def test_browser_vs_stock_changelist(bench_db, settings):
    from django.test import Client

    from audit.forms import encode_cursor
    from audit.models import AuditEntry
    from audit.selectors import PAGE_SIZE
    from staff.services import staff_create

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    user = staff_create(username="bench-auditor", role="auditor", password=None)
    client = Client()
    client.force_login(user)

    week = START + timedelta(days=200)
    since, until = week.strftime("%Y-%m-%d"), (week + timedelta(days=7)).strftime("%Y-%m-%d")
    # Page 200 of an action filter: our cursor is the last row of page 199.
    row = (
        AuditEntry.objects.filter(action="voucher.voided")
        .order_by("-at", "-id")
        .values_list("at", "id")[199 * PAGE_SIZE - 1]
    )
    cursor = encode_cursor(*row)
    ours = {
        "first page": "/admin/audit/auditentry/browse/",
        "actor + date range": f"/admin/audit/auditentry/browse/?actor=actor-7&since={since}"
        f"&until={until}",
        "page 200 of a filter": f"/admin/audit/auditentry/browse/?action=voucher.voided"
        f"&before={cursor}",
    }
    stock = {
        "first page": "/admin/audit/auditentry/",
        "actor + date range": f"/admin/audit/auditentry/?actor_name=actor-7&at__gte={since}"
        f"&at__lt={until}",
        "page 200 of a filter": "/admin/audit/auditentry/?action=voucher.voided&p=200",
    }
    rows = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    print(f"\naudit browser at ~{rows:,} entries (p50, ms; Django test client, in-process)")
    print(f"{'page':<24}{'ours':>10}{'stock':>12}{'ratio':>10}")
    for label in ours:
        mine = _p50(client, ours[label], runs=15)
        theirs = _p50(client, stock[label], runs=5)
        print(f"{label:<24}{mine:>10.1f}{theirs:>12.1f}{theirs / mine:>9.1f}x")
    # What any admin page costs in this run (session, auth, context processors, base
    # template), with no audit work at all: the floor under the browser's figures.
    floor = _p50(client, "/admin/password_change/", runs=15)
    print(f"{'(floor: an empty admin page)':<24}{floor:>10.1f}")


# The sealer in its own process (as in production: a django-q2 worker), sealing every
# 0.5 s while the flag file exists, until the stop file appears.
SEALER_LOOP = """
import os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
django.setup()
from audit.sealing import audit_seal
on_flag, stop_flag = sys.argv[1], sys.argv[2]
print("ready", flush=True)
sealed = 0
while not os.path.exists(stop_flag):
    if os.path.exists(on_flag):
        sealed += audit_seal(max_wait=0.5).sealed
    time.sleep(0.5)
print(sealed, flush=True)
"""


def _append_phase(seconds: float) -> float:
    from django.db import connection

    import audit

    counts = [0] * WRITERS
    errors: list[BaseException] = []
    deadline = time.perf_counter() + seconds

    def writer(i: int):
        try:
            while time.perf_counter() < deadline:
                audit.record(
                    action="bench.append",
                    target_type="vouchers.voucher",
                    target_id=str(i),
                    target_repr=f"voucher {i}",
                    data={"writer": i, "amount": 5000},
                )
                counts[i] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return sum(counts) / (time.perf_counter() - started)


def test_append_rate_chain_on_vs_off(bench_db, tmp_path):
    """Alternating off/on rounds, so a change in the machine's load hits both alike."""
    from audit.models import AuditSeal
    from audit.sealing import audit_seal

    on_flag, stop_flag = tmp_path / "sealing", tmp_path / "stop"
    sealer = subprocess.Popen(
        [sys.executable, "-c", SEALER_LOOP, str(on_flag), str(stop_flag)],
        cwd=ROOT,
        env=bench_db["env"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sealer.stdout.readline().strip() == "ready"
    off, on = [], []
    for _ in range(ROUNDS):
        off.append(_append_phase(APPEND_SECONDS / ROUNDS))
        audit_seal(max_wait=5)  # the chain-off backlog, outside the timing
        on_flag.touch()
        on.append(_append_phase(APPEND_SECONDS / ROUNDS))
        on_flag.unlink()
    stop_flag.touch()
    out, _ = sealer.communicate(timeout=600)
    sealed = int(out.strip().splitlines()[-1])
    off_rate, on_rate = statistics.mean(off), statistics.mean(on)
    print(
        f"\naudit append, {WRITERS} writers, one entry per transaction, "
        f"{ROUNDS} alternating rounds of {APPEND_SECONDS / ROUNDS:.1f} s"
    )
    print(
        f"chain off (no sealer)              {off_rate:8.0f} rows/s   rounds {[round(r) for r in off]}"
    )
    print(
        f"chain on (sealer every 0.5 s)      {on_rate:8.0f} rows/s   rounds {[round(r) for r in on]}"
    )
    print(f"sealed while appending             {sealed:8,}")
    print(f"chain cost                         {max(0.0, 1 - on_rate / off_rate) * 100:7.1f} %")
    head = AuditSeal.objects.order_by("-entry_id").first()
    assert sealed > 0 and head is not None
