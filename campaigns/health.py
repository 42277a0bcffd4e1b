"""Health as campaigns sees it: is the WhatsApp EF red? is the dispatcher stalled?"""

import datetime as dt

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from campaigns.models import Campaign, Target, WorkerHeartbeat

WHATSAPP_RESULT_MAX_AGE = dt.timedelta(seconds=60)  # the status API's cache age (contracts.md)


def whatsapp_is_red() -> bool:
    """The newest WhatsApp probe result when fresh, else a live probe (bounded by its timeout)."""
    from integrations.models import ProbeResult
    from integrations.probes import RED, probe_whatsapp

    latest = (
        ProbeResult.objects.filter(
            key="whatsapp", checked_at__gte=timezone.now() - WHATSAPP_RESULT_MAX_AGE
        )
        .order_by("-checked_at", "-id")
        .values_list("state", flat=True)
        .first()
    )
    if latest is None:
        latest = probe_whatsapp().state
    return latest == RED


def dispatcher_health(*, now: dt.datetime | None = None) -> dict:
    """State of the `campaign_dispatcher` probe: amber when a running campaign has not
    advanced for 2 min, red past 5 min or when no worker heartbeat is fresh.

    A campaign that is waiting on purpose (quiet hours, backoff, retries not yet due:
    `next_send_at` in the future) is not stalled.
    """
    now = now or timezone.now()
    running = list(
        Campaign.objects.filter(state=Campaign.State.RUNNING).values(
            "pk", "name", "last_progress_at", "started_at", "next_send_at"
        )
    )
    queue_length = (
        Target.objects.filter(
            campaign__state=Campaign.State.RUNNING, status=Target.Status.PENDING
        ).count()
        if running
        else 0
    )
    newest_beat = WorkerHeartbeat.objects.aggregate(newest=Max("seen_at"))["newest"]
    fresh = newest_beat is not None and (now - newest_beat).total_seconds() <= (
        settings.CAMPAIGN_HEARTBEAT_FRESH_SECONDS
    )
    worst, worst_detail = 0.0, ""
    for c in running:
        if c["next_send_at"] and c["next_send_at"] > now:
            continue
        # Progress (or the (re)start, which resets it) or the end of a wait, whichever is later.
        since = max(
            [t for t in (c["last_progress_at"] or c["started_at"], c["next_send_at"]) if t],
            default=now,
        )
        idle = (now - since).total_seconds()
        if idle > worst:
            worst, worst_detail = (
                idle,
                f"{c['name']} (#{c['pk']}) has not advanced for {idle:.0f} s",
            )
    extra = {"queue_length": queue_length, "running": len(running)}
    if not fresh:
        age = "never" if newest_beat is None else f"{(now - newest_beat).total_seconds():.0f} s ago"
        return {
            "state": "red",
            "reason": "stalled",
            "detail": f"no fresh worker heartbeat (last: {age})",
            **extra,
        }
    if worst > settings.CAMPAIGN_STALL_RED_SECONDS:
        return {"state": "red", "reason": "stalled", "detail": worst_detail, **extra}
    if worst > settings.CAMPAIGN_STALL_AMBER_SECONDS:
        return {"state": "amber", "reason": "stalled", "detail": worst_detail, **extra}
    detail = f"{len(running)} running, {queue_length} pending" if running else "no running campaign"
    return {"state": "green", "reason": "ok", "detail": detail, **extra}


def probe_campaign_dispatcher():
    """The `campaign_dispatcher` probe for integrations' status API (registered in apps.py)."""
    from integrations.probes import ProbeOutcome

    health = dispatcher_health()
    return ProbeOutcome(
        health["state"],
        health["reason"],
        health["detail"],
        extra={"queue_length": health["queue_length"]},
    )


__all__ = ["whatsapp_is_red", "dispatcher_health", "probe_campaign_dispatcher"]
