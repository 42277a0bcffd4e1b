"""Helpers for the multi-host test: reading /metrics, the simulator's send log, the lease."""

import itertools
import time

from django.db import close_old_connections, connection

from campaigns.session_lease import APP_NAME_PREFIX, LOCK_CLASS, lock_key
from tests.prometheus_text import metric  # noqa: F401 (the cluster test reads it from here)


def send_calls(sim, campaign_id: int) -> list[float]:
    """Arrival times of every send-whatsapp POST for this campaign (first sends and the
    keys re-asked after a crash alike: each one used a slot of the throttle)."""
    prefix = f"campaign-{campaign_id}-"
    return sorted(
        call["at"]
        for call in sim.calls("whatsapp", "POST")
        if str((call.get("body") or {}).get("idempotency_key", "")).startswith(prefix)
    )


def first_sends(sim, campaign_id: int) -> list[float]:
    prefix = f"campaign-{campaign_id}-"
    return sorted(e["at"] for e in sim.send_log if e["idempotency_key"].startswith(prefix))


WINDOW = 10.0  # seconds
JITTER = 0.25  # seconds: sends paced exactly may reach the simulator this much apart


def rate_figures(times: list[float], per_minute: int) -> dict:
    """Share of the throttle used over the run, the longest pause, the busiest 10 s window
    and what the throttle allows in one (its share, + 1, + delivery jitter)."""
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    per_second = per_minute / 60
    gap = max((b - a for a, b in itertools.pairwise(times)), default=0.0)
    busiest, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - WINDOW:
            j += 1
        busiest = max(busiest, i - j + 1)
    return {
        "n": len(times),
        "span": round(span, 2),
        "use": round((len(times) - 1) / span / per_second, 4) if span else 0.0,
        "longest_pause": round(gap, 3),
        "busiest_10s": busiest,
        "allowed_10s": WINDOW * per_second + 1 + JITTER * per_second,
    }


def lease_nodes(campaign_id: int) -> tuple[str | None, list[str]]:
    """(the node holding the campaign's lease, the nodes whose standbys wait for it)."""
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.granted, a.application_name FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.objsubid = 2"
            " AND l.classid = %s::oid AND l.objid = %s::oid",
            [LOCK_CLASS, lock_key(campaign_id)],
        )
        rows = cursor.fetchall()
    holder = next((name.removeprefix(APP_NAME_PREFIX) for granted, name in rows if granted), None)
    return holder, [name.removeprefix(APP_NAME_PREFIX) for granted, name in rows if not granted]


def wait_for(predicate, *, timeout: float, every: float = 0.2, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        if predicate():
            return
        time.sleep(every)
    close_old_connections()
    assert predicate(), f"timed out after {timeout} s waiting for {what or predicate}"


def schedules_ensure() -> None:
    """The django-q2 schedules our migrations create, made again if a flush removed them
    (a `transaction=True` test empties the tables; data migrations do not run again)."""
    import inspect

    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    ours = {
        "audit",
        "campaigns",
        "incidents",
        "integrations",
        "vouchers",
        "staff",
        "opsportal",
        "rotation",
    }
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, _name), migration in sorted(loader.disk_migrations.items()):
        for operation in migration.operations:
            if (
                app in ours
                and isinstance(operation, RunPython)
                and "Schedule" in inspect.getsource(operation.code)
            ):
                operation.code(apps, None)
