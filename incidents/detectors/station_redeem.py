from django.db.models import Count

from incidents.detectors import Finding, detector
from incidents.services.incidents import Impacted
from vouchers.models import Voucher, VoucherEvent

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
