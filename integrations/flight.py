"""Single-flight probe runs across processes and hosts, kept in the database.

The rule (contracts.md): a forced status request is answered by a probe run that
*started after the request arrived*, whoever started it, within the probe timeout + 1 s.

- A `ProbeRun` row is created with the time its probes will start (`started_at`). A
  request that arrived at or before that time joins it; otherwise it plans the next
  run. Planning is serialised (a transaction-scoped advisory lock on PostgreSQL; SQLite
  serialises writers anyway), so two requests never plan two runs for one instant.
- A forced run starts `gather` seconds after the request that planned it arrived: the
  requests of a burst (50 people pressing "refresh", a proxy queue draining into sync
  workers) all arrive before it starts and share it, instead of each needing a later one.
- The leader holds a session advisory lock keyed by the run while it probes, on a
  connection of its own (DATABASE_SESSION_URL: a real session even behind a
  transaction-mode pooler), taken before the run is visible; joiners wait on it (shared,
  inside a transaction), so they wake the moment it finishes — or dies, when the server
  ends its session: then the run is marked abandoned and they plan another. On SQLite
  joiners poll.
- Runs may overlap: a request arriving while one probes does not wait for it to end
  before its own starts (it could not be answered in time otherwise).

Times are wall clocks (`timezone.now()`), compared across hosts: keep them NTP-synced
(a skew of a few ms only loosens the rule by as much).
"""

import datetime as dt
import os
import socket
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.utils import load_backend
from django.utils import timezone

from integrations.models import ProbeRun

PLAN_LOCK_KEY = 0x6F70_7072_6F62_6501  # one-key lock: "a run is being planned"
RUN_LOCK_CLASS = 0x6F70_7072  # two-key lock (class, run id): held while a run probes
POLL_SECONDS = 0.05
LOCK_NOT_AVAILABLE = "55P03"


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _run_key(run_id: int) -> int:
    return run_id % 2**31


def session_connection():
    """A connection of its own, for a session lock that must live exactly as long as we
    hold it (DATABASE_SESSION_URL when DATABASE_URL is a transaction-mode pooler)."""
    base = connections[DEFAULT_DB_ALIAS].settings_dict
    settings_dict = {**base, **(settings.DATABASE_SESSION or {})}
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "session")


def run_join_or_plan(*, arrived: dt.datetime, gather: float, forced: bool):
    """(the run that answers a request arrived at `arrived`, the leader's lock connection
    when we lead it, else None)."""
    holder = None
    try:
        with transaction.atomic():
            if _pg():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLAN_LOCK_KEY])
            run = (
                ProbeRun.objects.filter(started_at__gte=arrived, abandoned=False)
                .order_by("started_at")
                .first()
            )
            if run is not None:
                return run, None
            start = max(arrived + dt.timedelta(seconds=gather), timezone.now())
            run = ProbeRun.objects.create(
                started_at=start, forced=forced, leader=f"{socket.gethostname()}:{os.getpid()}"
            )
            holder = _hold(run) if _pg() else _NO_LOCK
            return run, holder  # the run is locked before the commit makes it visible
    except BaseException:
        if holder not in (None, _NO_LOCK):
            holder.close()
        raise


_NO_LOCK = object()  # SQLite: leading needs no lock


def _hold(run: ProbeRun):
    db = session_connection()
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK_CLASS, _run_key(run.pk)])
    return db


def run_lead(run: ProbeRun, holder, *, probe: Callable[[], dict]) -> dict:
    """Wait for the planned start, probe, publish the payload, let go (joiners wake)."""
    try:
        delay = (run.started_at - timezone.now()).total_seconds()
        if delay > 0:
            time.sleep(delay)
        payload = probe()
        ProbeRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), payload=payload)
        return payload
    except BaseException:
        ProbeRun.objects.filter(pk=run.pk).update(abandoned=True)
        raise
    finally:
        if holder is not _NO_LOCK:
            holder.close()  # its session ends: the lock goes with it


def _wait_for_leader(run: ProbeRun, seconds: float) -> bool:
    """Block until the leader lets go of the run's lock (PostgreSQL): False if `seconds`
    passed first."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{max(1, int(seconds * 1000))}ms'")
                cursor.execute(
                    "SELECT pg_advisory_xact_lock_shared(%s, %s)",
                    [RUN_LOCK_CLASS, _run_key(run.pk)],
                )
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        return False
    return True


def run_wait(run: ProbeRun, *, deadline: float, bound: float) -> ProbeRun | None:
    """The finished run; None when it was abandoned (plan another) or `deadline` passed.

    `bound`: how long a run may take; an unfinished run older than that has lost its
    leader (how SQLite, without session locks, finds out)."""
    while True:
        left = deadline - time.monotonic()
        leader_gone = _pg() and left > 0 and _wait_for_leader(run, left)
        run.refresh_from_db()
        if run.finished_at is not None:
            return run
        if run.abandoned:
            return None
        overdue = timezone.now() > run.started_at + dt.timedelta(seconds=bound)
        if leader_gone or overdue:
            ProbeRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(abandoned=True)
            return None
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def runs_prune(*, before: dt.datetime) -> int:
    deleted, _ = ProbeRun.objects.filter(started_at__lt=before).delete()
    return deleted
