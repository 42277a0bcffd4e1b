"""Detectors reading integration health and campaign sends."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from campaigns.health import dispatcher_health
from campaigns.models import Campaign, SendResult
from campaigns.selectors import send_failure_rate
from incidents.detectors.registry import Finding, detector
from incidents.services.incidents import Impacted
from integrations.status import status_latest


def _latest(key: str) -> dict | None:
    payload = status_latest()  # never probes: detectors read what the probe schedule found
    return next((i for i in (payload or {}).get("integrations", []) if i["key"] == key), None)


@detector("voucher_png_red")
def voucher_png_red() -> list[Finding]:
    item = _latest("voucher_png")
    if not item or item["state"] != "red":
        return []
    return [
        Finding(
            runbook_key="voucher_preview",
            subject="voucher_png",
            title="Voucher previews failing",
            detail=f"voucher_png probe red: {item['reason']} {item.get('detail', '')}".strip(),
        )
    ]


@detector("whatsapp_failures")
def whatsapp_failures() -> list[Finding]:
    minutes = settings.WHATSAPP_FAILURE_RATE_MINUTES
    reasons = []
    item = _latest("whatsapp")
    if item and item["state"] == "red":
        reasons.append(f"send-whatsapp probe red ({item['reason']})")
    since = timezone.now() - timedelta(minutes=minutes)
    # A rate over a handful of sends is noise; look only once there is some volume.
    if SendResult.objects.filter(at__gte=since)[:10].count() >= 10:
        rate = send_failure_rate(minutes=minutes)
        if rate > settings.WHATSAPP_FAILURE_RATE_THRESHOLD:
            reasons.append(f"{rate:.0%} of sends failed in the last {minutes} min")
    if not reasons:
        return []
    return [
        Finding(
            runbook_key="whatsapp_send",
            subject="whatsapp",
            title="WhatsApp sends failing",
            detail="; ".join(reasons),
        )
    ]


@detector("dispatcher_stalled")
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
