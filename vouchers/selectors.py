"""Reads for the voucher pages."""

from dataclasses import dataclass
from datetime import datetime

from vouchers.models import PreviewFailure, RedeemAttempt, Station, Voucher, VoucherEvent

REVIEW_ATTEMPTS_LIMIT = 50


@dataclass(frozen=True)
class VoucherReview:
    voucher: Voucher
    scope: list[Station]
    replaces: Voucher | None
    events: list[VoucherEvent]
    attempts: list[RedeemAttempt]


def voucher_review_get(*, voucher_id: int) -> VoucherReview:
    """Status, scope, events and the latest redeem attempts of one voucher, together."""
    voucher = Voucher.objects.select_related("redeemed_by", "replaced_by").get(pk=voucher_id)
    return VoucherReview(
        voucher=voucher,
        scope=list(voucher.station_scope.order_by("code")),
        replaces=Voucher.objects.filter(replaced_by=voucher).first(),
        events=list(voucher.events.select_related("station").order_by("at", "id")),
        # Attempts are logged by the code the station sent (the voucher may not have existed).
        attempts=list(
            RedeemAttempt.objects.filter(code=voucher.code)
            .select_related("station")
            .order_by("-id")[:REVIEW_ATTEMPTS_LIMIT]
        ),
    )


def preview_failures_between(
    *, start: datetime, end: datetime | None = None, limit: int = 200
) -> tuple[list[PreviewFailure], bool]:
    """Failed previews in [start, end] (end None = until now), oldest first, at most
    `limit`; and whether there were more."""
    rows = PreviewFailure.objects.filter(at__gte=start)
    if end is not None:
        rows = rows.filter(at__lte=end)
    found = list(rows.order_by("at", "id")[: limit + 1])
    return found[:limit], len(found) > limit
