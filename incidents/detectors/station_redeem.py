"""Detectors of the Station Redeem runbook."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from incidents.detectors.registry import Finding, detector
from incidents.services.incidents import Impacted
from vouchers.models import IDEMPOTENCY_FAILURES, RedeemAttempt, Voucher, VoucherEvent

MAX_FINDINGS = 50


@detector("double_redemption")
def double_redemptions() -> list[Finding]:
    """A voucher with two redemption events: the at-most-once guarantee broke."""
    rows = (
        VoucherEvent.objects.filter(kind=VoucherEvent.Kind.REDEEMED)
        .values("voucher_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
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
        )
        for row in rows
    ]


@detector("idempotency_spike")
def idempotency_spike() -> list[Finding]:
    """Many idempotency failures in a short window: stations retry wrongly or keys collide."""
    threshold = settings.REDEEM_IDEMPOTENCY_SPIKE
    since = timezone.now() - timedelta(minutes=10)
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
        )
    ]
