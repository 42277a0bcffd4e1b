"""Detectors of the Station Redeem runbook."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from incidents.detectors.registry import Finding, detector
from incidents.services.incidents import Impacted
from vouchers.models import IDEMPOTENCY_FAILURES, RedeemAttempt, Voucher, VoucherEvent

MAX_FINDINGS = 50
DOUBLE_REDEMPTION_WINDOW = timedelta(days=1)
SPIKE_WINDOW = timedelta(minutes=10)


@detector("double_redemption", window=DOUBLE_REDEMPTION_WINDOW)
def double_redemptions() -> list[Finding]:
    """A voucher with two redemption events, the latest within the window: the at-most-once
    guarantee broke. Its evidence is the latest redemption, so once an incident naming the
    voucher is resolved after it, the voucher counts again only if redeemed again."""
    since = timezone.now() - DOUBLE_REDEMPTION_WINDOW
    rows = (
        VoucherEvent.objects.filter(kind=VoucherEvent.Kind.REDEEMED)
        .values("voucher_id")
        .annotate(n=Count("id"), latest=Max("at"))
        .filter(n__gt=1, latest__gte=since)
        .order_by("voucher_id")[:MAX_FINDINGS]
    )
    codes = dict(
        Voucher.objects.filter(pk__in=[r["voucher_id"] for r in rows]).values_list("pk", "code")
    )
    return [
        Finding(
            runbook_key="station_redeem",
            subject=f"double_redemption:voucher:{row['voucher_id']}",
            title=f"Double redemption of voucher {codes.get(row['voucher_id'], row['voucher_id'])}",
            detail=f"voucher {codes.get(row['voucher_id'])} has {row['n']} redemption events",
            impacted=[
                Impacted("vouchers.voucher", row["voucher_id"], codes.get(row["voucher_id"], ""))
            ],
            evidence_at=row["latest"],
        )
        for row in rows
    ]


@detector("idempotency_spike", window=SPIKE_WINDOW, tracks_condition=True)
def idempotency_spike() -> list[Finding]:
    """Many idempotency failures in a short window: stations retry wrongly or keys collide."""
    threshold = settings.REDEEM_IDEMPOTENCY_SPIKE
    since = timezone.now() - SPIKE_WINDOW
    recent = RedeemAttempt.objects.filter(at__gte=since, outcome__in=IDEMPOTENCY_FAILURES)
    if recent[:threshold].count() < threshold:
        return []
    codes = list(recent.exclude(code="").values_list("code", flat=True).distinct()[:20])
    vouchers = Voucher.objects.filter(code__in=codes)
    return [
        Finding(
            runbook_key="station_redeem",
            subject="idempotency_spike",
            title="Spike of redeem idempotency failures",
            detail=f"at least {threshold} idempotency failures in 10 minutes",
            impacted=[Impacted("vouchers.voucher", v.pk, v.code) for v in vouchers],
            evidence_at=recent.aggregate(latest=Max("at"))["latest"],
        )
    ]
