"""The integrations status: run probes (single-flight, time-bounded), store, cache, read.

- `status_get(force=False)` serves the cached status (≤ 60 s old) and probes only
  when nothing fresh exists; `force=True` probes now.
- Probe runs are single-flight across every process and host (integrations/flight.py):
  a forced request is answered by a run that started after it arrived, whoever started
  it, and requests arriving together share one run.
- Each probe is bounded by the probe timeout; network probes run in parallel and
  whatever has not answered by then is reported `timeout`, so a run takes at most
  (probe timeout + a fraction of a second) even when an EF hangs.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Subquery
from django.utils import timezone

from integrations.flight import run_join_or_plan, run_lead, run_wait, runs_prune
from integrations.models import ProbeResult
from integrations.probes import (
    RED,
    STATE_RANK,
    Probe,
    ProbeOutcome,
    probe_timeout,
    registered_probes,
)

logger = logging.getLogger("integrations")

CACHE_KEY = "integrations:status:v1"
NONE_YET_KEY = "integrations:status:none-yet"
STALE_CACHE_SECONDS = 10
MAX_AGE_SECONDS = 60
# What the run itself may add on top of the probe timeout (thread start, DB write).
RUN_SLACK_SECONDS = 0.3
# The contract: a forced request is answered within the probe timeout + this.
ANSWER_SLACK_SECONDS = 1.0


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(row: ProbeResult, probe: Probe | None) -> dict:
    item = {
        "key": row.key,
        "label": row.label,
        "state": row.state,
        "reason": row.reason,
        "detail": row.detail,
        "latency_ms": row.latency_ms,
        "checked_at": _iso(row.checked_at),
    }
    for extra_key in probe.extra_keys if probe else ():
        item[extra_key] = row.extra.get(extra_key)
    return item


def _payload(rows: list[ProbeResult]) -> dict:
    probes = {p.key: p for p in registered_probes()}
    order = list(probes)
    rows = sorted(rows, key=lambda r: order.index(r.key) if r.key in order else len(order))
    worst = max((r.state for r in rows), key=STATE_RANK.__getitem__, default=RED)
    newest = max((r.checked_at for r in rows), default=timezone.now())
    return {
        "overall": worst,
        "checked_at": _iso(newest),
        "integrations": [_item(r, probes.get(r.key)) for r in rows],
    }


def _run_one(probe: Probe) -> ProbeOutcome:
    try:
        outcome = probe.func()
    except Exception as exc:  # a broken probe is a red tile, never a failed status call
        logger.warning("probe %s raised %s", probe.key, type(exc).__name__)
        return ProbeOutcome(RED, "http_error", f"probe failed: {type(exc).__name__}")
    return outcome


def _probe_all(*, forced: bool) -> dict:
    probes = registered_probes()
    timeout = probe_timeout()
    started = time.monotonic()
    outcomes: dict[str, ProbeOutcome] = {}
    remote = [p for p in probes if not p.local]
    pool = ThreadPoolExecutor(max_workers=max(1, len(remote)), thread_name_prefix="probe")
    try:
        futures = {pool.submit(_run_one, p): p for p in remote}
        for probe in probes:
            if probe.local:
                outcomes[probe.key] = _run_one(probe)
        remaining = max(0.0, timeout + RUN_SLACK_SECONDS / 2 - (time.monotonic() - started))
        done, _ = futures_wait(futures, timeout=remaining)
        for future, probe in futures.items():
            if future in done:
                outcomes[probe.key] = future.result()
            else:
                outcomes[probe.key] = ProbeOutcome(
                    RED, "timeout", f"no answer within {timeout:g} s", int(timeout * 1000)
                )
    finally:
        # Stuck probes finish on their own client timeouts; nobody waits for them.
        pool.shutdown(wait=False, cancel_futures=True)
    now = timezone.now()
    rows = ProbeResult.objects.bulk_create(
        [
            ProbeResult(
                key=p.key,
                label=p.label,
                state=outcomes[p.key].state,
                reason=outcomes[p.key].reason,
                detail=outcomes[p.key].detail[:500],
                latency_ms=outcomes[p.key].latency_ms,
                extra=outcomes[p.key].extra,
                forced=forced,
                checked_at=now,
            )
            for p in probes
        ]
    )
    payload = _payload(rows)
    cache.set(CACHE_KEY, payload, MAX_AGE_SECONDS)
    cache.delete(NONE_YET_KEY)
    return payload


def probes_run(*, forced: bool = True, arrived: datetime | None = None) -> dict:
    """Probe everything, single-flight across processes and hosts: the answer comes from a
    run that started at or after `arrived` (default: now), whoever runs it."""
    arrived = arrived or timezone.now()
    timeout = probe_timeout()
    deadline = time.monotonic() + timeout + ANSWER_SLACK_SECONDS
    gather = settings.INTEGRATIONS_PROBE_GATHER_MS / 1000 if forced else 0.0
    bound = gather + timeout + RUN_SLACK_SECONDS + ANSWER_SLACK_SECONDS
    while time.monotonic() < deadline:
        run, holder = run_join_or_plan(arrived=arrived, gather=gather, forced=forced)
        if holder is not None:  # we lead this run
            return run_lead(run, holder, probe=lambda: _probe_all(forced=forced))
        finished = run_wait(run, deadline=deadline, bound=bound)
        if finished is not None:
            return finished.payload
    # Every run we joined lost its leader and time is up: the newest status we have.
    logger.warning("forced probe: no run finished in time; answering the last known status")
    return status_latest() or _probe_all(forced=forced)


def _latest_rows() -> list[ProbeResult]:
    """The newest run's rows in one query (every run stores one row per probe, same time)."""
    newest = ProbeResult.objects.order_by("-checked_at").values("checked_at")[:1]
    by_key: dict[str, ProbeResult] = {}
    for row in ProbeResult.objects.filter(checked_at=Subquery(newest)).order_by("id"):
        by_key[row.key] = row  # two processes finishing in the same microsecond: newest id
    return list(by_key.values())


def status_latest() -> dict | None:
    """The last known status without probing (cache, else the newest stored run); None if never.

    At most one query per cache period, so every page can afford it (degraded banners).
    """
    payload = cache.get(CACHE_KEY)
    if payload is not None:
        return payload
    if cache.get(NONE_YET_KEY):
        return None
    rows = _latest_rows()
    if not rows:
        cache.set(NONE_YET_KEY, True, STALE_CACHE_SECONDS)
        return None
    payload = _payload(rows)
    age = (timezone.now() - min(r.checked_at for r in rows)).total_seconds()
    # Stale results are cached briefly too: status_get re-probes them, pages just show them.
    cache.set(
        CACHE_KEY,
        payload,
        int(MAX_AGE_SECONDS - age) if age < MAX_AGE_SECONDS - 1 else STALE_CACHE_SECONDS,
    )
    return payload


def status_get(*, force: bool = False, arrived: datetime | None = None) -> dict:
    """The status of every integration: at most 60 s old, or probed after `arrived` (the
    request's arrival, default now) when `force`."""
    if not force:
        payload = status_latest()
        if payload is not None and _is_fresh(payload):
            return payload
    return probes_run(forced=force, arrived=arrived)


def _is_fresh(payload: dict) -> bool:
    keys = {item["key"] for item in payload["integrations"]}
    if keys != {p.key for p in registered_probes()}:
        return False
    oldest = min(item["checked_at"] for item in payload["integrations"])
    return oldest >= _iso(timezone.now() - timedelta(seconds=MAX_AGE_SECONDS))


def integration_state(key: str) -> str:
    """Last known state of one integration ("green"/"amber"/"red"); red when never probed."""
    payload = status_latest()
    for item in (payload or {}).get("integrations", []):
        if item["key"] == key:
            return item["state"]
    return RED


def probe_history(*, key: str | None = None, limit: int = 20) -> list[ProbeResult]:
    rows = ProbeResult.objects.all()
    if key:
        rows = rows.filter(key=key)
    return list(rows.order_by("-checked_at", "-id")[:limit])


def probe_history_prune(*, days: int) -> int:
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = ProbeResult.objects.filter(checked_at__lt=cutoff).delete()
    runs_prune(before=cutoff)
    return deleted
