"""The integrations status: run probes (single-flight, time-bounded), store, cache, read.

- `status_get(force=False)` serves the cached status (≤ 60 s old) and probes only
  when nothing fresh exists; `force=True` probes now.
- Forced runs that arrive together share one run: in one process through a lock
  and a shared Future; across processes through `cache.add` (a real lock only when
  CACHE_URL points every process at one Redis; with the default per-process
  locmem cache each process runs at most one probe round at a time).
- Each probe is bounded by the probe timeout; network probes run in parallel and
  whatever has not answered by then is reported `timeout`, so a run takes at most
  (probe timeout + a fraction of a second) even when an EF hangs.
"""

import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db.models import Subquery
from django.utils import timezone

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
RUN_LOCK_KEY = "integrations:status:run-lock"
NONE_YET_KEY = "integrations:status:none-yet"
STALE_CACHE_SECONDS = 10
MAX_AGE_SECONDS = 60
# What the run itself may add on top of the probe timeout (thread start, DB write).
RUN_SLACK_SECONDS = 0.3

_flight_lock = threading.Lock()
_flight: Future | None = None


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


def probes_run(*, forced: bool = True) -> dict:
    """Probe everything now, sharing a run already in flight (single-flight)."""
    global _flight
    with _flight_lock:
        if _flight is not None and not _flight.done():
            shared, leader = _flight, False
        else:
            shared = _flight = Future()
            leader = True
    if not leader:
        return shared.result(timeout=probe_timeout() + 5)
    try:
        payload = _run_across_processes(forced=forced)
    except BaseException as exc:
        shared.set_exception(exc)
        raise
    shared.set_result(payload)
    return payload


def _run_across_processes(*, forced: bool) -> dict:
    """Hold the shared-cache run lock while probing; if another process holds it, use its run."""
    requested = timezone.now()
    token = uuid.uuid4().hex
    bound = probe_timeout() + RUN_SLACK_SECONDS
    if not cache.add(RUN_LOCK_KEY, token, timeout=int(bound) + 2):
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            time.sleep(0.05)
            fresh = _fresh_since(requested - timedelta(seconds=bound))
            if fresh is not None:
                return fresh
        # The other run did not finish in time: probe ourselves rather than wait longer.
    try:
        return _probe_all(forced=forced)
    finally:
        if cache.get(RUN_LOCK_KEY) == token:
            cache.delete(RUN_LOCK_KEY)


def _fresh_since(since: datetime) -> dict | None:
    payload = cache.get(CACHE_KEY)
    if payload and payload["checked_at"] >= _iso(since):
        return payload
    return None


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


def status_get(*, force: bool = False) -> dict:
    """The status of every integration: at most 60 s old, or probed now when `force`."""
    if not force:
        payload = status_latest()
        if payload is not None and _is_fresh(payload):
            return payload
    return probes_run(forced=force)


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
    return deleted
