"""Reads for the voucher pages."""

from dataclasses import dataclass

from vouchers.models import RedeemAttempt, Station, Voucher, VoucherEvent

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
