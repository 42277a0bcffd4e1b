"""Detectors reading integration health and campaign sends."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.health import dispatcher_health
from campaigns.models import Campaign, SendResult
from campaigns.selectors import FAILURE_OUTCOMES
from incidents.detectors.registry import Finding, detector
from incidents.selectors import incident_last_resolved_at
from incidents.services.incidents import Impacted
from integrations.status import status_latest


def _latest(key: str) -> dict | None:
    payload = status_latest()  # never probes: detectors read what the probe schedule found
    return next((i for i in (payload or {}).get("integrations", []) if i["key"] == key), None)


def _checked_at(item: dict) -> datetime | None:
    return parse_datetime(item.get("checked_at") or "")


@detector("voucher_png_red", tracks_condition=True)
def voucher_png_red() -> list[Finding]:
    """The voucher_png probe's last result is red (evidence: when it was probed)."""
    item = _latest("voucher_png")
    if not item or item["state"] != "red":
        return []
    return [
        Finding(
            runbook_key="voucher_preview",
            subject="voucher_png",
            title="Voucher previews failing",
            detail=f"voucher_png probe red: {item['reason']} {item.get('detail', '')}".strip(),
            evidence_at=_checked_at(item),
        )
    ]


@detector("whatsapp_failures", tracks_condition=True)
def whatsapp_failures() -> list[Finding]:
    """The send-whatsapp probe is red, or too many sends failed in the window — counting
    only sends after the last WhatsApp incident was resolved (older failures are explained)."""
    minutes = settings.WHATSAPP_FAILURE_RATE_MINUTES
    reasons, evidence = [], []
    item = _latest("whatsapp")
    if item and item["state"] == "red":
        reasons.append(f"send-whatsapp probe red ({item['reason']})")
        evidence.append(_checked_at(item))
    since = timezone.now() - timedelta(minutes=minutes)
    resolved = incident_last_resolved_at(runbook_key="whatsapp_send", subject="whatsapp")
    sends = SendResult.objects.filter(at__gte=max(since, resolved or since))
    # A rate over a handful of sends is noise; look only once there is some volume.
    if sends[:10].count() >= 10:
        totals = sends.aggregate(
            total=Count("id"),
            failed=Count("id", filter=Q(outcome__in=FAILURE_OUTCOMES)),
            latest=Max("at", filter=Q(outcome__in=FAILURE_OUTCOMES)),
        )
        rate = totals["failed"] / totals["total"]
        if rate > settings.WHATSAPP_FAILURE_RATE_THRESHOLD:
            reasons.append(f"{rate:.0%} of sends failed in the last {minutes} min")
            evidence.append(totals["latest"])
    if not reasons:
        return []
    return [
        Finding(
            runbook_key="whatsapp_send",
            subject="whatsapp",
            title="WhatsApp sends failing",
            detail="; ".join(reasons),
            evidence_at=max((e for e in evidence if e), default=None),
        )
    ]


@detector("dispatcher_stalled", tracks_condition=True)
def dispatcher_stalled() -> list[Finding]:
    """A running campaign whose targets stopped advancing (the dispatcher's own stall rule)."""
    health = dispatcher_health()
    if health["state"] == "green":
        return []
    now = timezone.now()
    limit = timedelta(seconds=settings.CAMPAIGN_STALL_AMBER_SECONDS)
    findings = []
    for c in Campaign.objects.filter(state=Campaign.State.RUNNING).order_by("pk")[:50]:
        if c.next_send_at and c.next_send_at > now:
            continue  # waiting on purpose (quiet hours, backoff)
        since = max([t for t in (c.last_progress_at, c.started_at) if t], default=now)
        if now - since < limit and "heartbeat" not in health["detail"]:
            continue
        findings.append(
            Finding(
                runbook_key="dispatcher_stall",
                subject=f"campaign:{c.pk}",
                title=f"Campaign {c.name!r} not advancing",
                detail=f"dispatcher {health['state']}: {health['detail']}; queue length "
                f"{health['queue_length']}",
                impacted=[Impacted("campaigns.campaign", c.pk, c.name)],
            )
        )
    return findings
