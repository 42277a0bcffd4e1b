"""Actions composed from the vouchers app's services and records."""

from incidents.actions.base import ActionContext, ActionError, Param, register
from vouchers.models import Voucher, VoucherEvent

MAX_REVIEW = 50


def _voucher_codes(ctx: ActionContext) -> list[str]:
    codes = ctx.params.get("voucher_codes") or []
    if not codes:
        ids = ctx.impacted_ids("vouchers.voucher")
        codes = list(Voucher.objects.filter(pk__in=ids).values_list("code", flat=True))
    if not codes:
        raise ActionError("No vouchers given and none linked to the incident.")
    return codes[:MAX_REVIEW]


@register(
    "vouchers_review",
    "Review voucher status and events",
    tier="safe",
    safe_to_retry=True,
    params=(
        Param(
            "voucher_codes",
            "Voucher codes (default: the incident's vouchers)",
            kind="str_list",
            required=False,
        ),
    ),
)
def vouchers_review(ctx: ActionContext) -> dict:
    report = []
    for code in _voucher_codes(ctx):
        voucher = Voucher.objects.filter(code=code).select_related("redeemed_by").first()
        if voucher is None:
            ctx.log(f"{code}: not found")
            continue
        events = list(
            VoucherEvent.objects.filter(voucher=voucher).select_related("station").order_by("at")
        )
        redemptions = sum(1 for e in events if e.kind == VoucherEvent.Kind.REDEEMED)
        ctx.log(
            f"{code}: status {voucher.status}, redeemed by "
            f"{voucher.redeemed_by.code if voucher.redeemed_by else '—'}, "
            f"{len(events)} event(s), {redemptions} redemption(s)"
            + ("  ← DOUBLE REDEMPTION" if redemptions > 1 else "")
        )
        for event in events:
            ctx.log(
                f"  {event.at:%Y-%m-%d %H:%M:%S} {event.kind}"
                f" {event.station.code if event.station else ''} {event.actor_name}".rstrip()
            )
        report.append(
            {
                "code": code,
                "status": voucher.status,
                "events": len(events),
                "redemptions": redemptions,
            }
        )
    return {"vouchers": report}
