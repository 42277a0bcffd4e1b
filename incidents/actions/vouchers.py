"""Actions composed from the vouchers app's services and selectors."""

from django.core.exceptions import PermissionDenied, ValidationError

from incidents.engine.params import Param
from incidents.engine.registry import ActionContext, ActionError, register
from incidents.services.incidents import Impacted, incident_impacted_add
from vouchers import services as voucher_services
from vouchers.models import IDEMPOTENCY_FAILURES, RedeemAttempt, Station, Voucher
from vouchers.selectors import voucher_review_get

MAX_REVIEW = 50
CODES = Param(
    "voucher_codes",
    "Voucher codes (default: the incident's vouchers)",
    kind="str_list",
    required=False,
)
REASON = Param("reason", "Reason", kind="text")


def _voucher_codes(ctx: ActionContext) -> list[str]:
    codes = ctx.params.get("voucher_codes") or []
    if not codes:
        ids = ctx.impacted_ids("vouchers.voucher")
        codes = list(Voucher.objects.filter(pk__in=ids).values_list("code", flat=True))
    if not codes:
        raise ActionError("No vouchers given and none linked to the incident.")
    return codes[:MAX_REVIEW]


def _voucher(code: str) -> Voucher:
    """By code; a bare number (the form's default from the incident's vouchers) is an id."""
    voucher = Voucher.objects.filter(code=code).first()
    if voucher is None and code.isdigit():
        voucher = Voucher.objects.filter(pk=int(code)).first()
    if voucher is None:
        raise ActionError(f"No voucher {code!r}.")
    return voucher


@register(
    "vouchers_review",
    "Review voucher status and events",
    tier="safe",
    safe_to_retry=True,
    params=(CODES,),
)
def vouchers_review(ctx: ActionContext) -> dict:
    report = []
    for code in _voucher_codes(ctx):
        voucher = Voucher.objects.filter(code=code).first()
        if voucher is None:
            ctx.log(f"{code}: not found")
            continue
        review = voucher_review_get(voucher_id=voucher.pk)
        v = review.voucher
        redemptions = sum(1 for e in review.events if e.kind == "redeemed")
        ctx.log(
            f"{code}: status {v.status}, redeemed by "
            f"{v.redeemed_by.code if v.redeemed_by else '—'}, scope "
            f"{[s.code for s in review.scope] or 'any station'}, {len(review.events)} event(s), "
            f"{redemptions} redemption(s)" + ("  ← DOUBLE REDEMPTION" if redemptions > 1 else "")
        )
        for e in review.events:
            ctx.log(
                f"  {e.at:%Y-%m-%d %H:%M:%S} {e.kind} "
                f"{e.station.code if e.station else ''} {e.actor_name}".rstrip()
            )
        report.append(
            {
                "code": code,
                "status": v.status,
                "events": len(review.events),
                "redemptions": redemptions,
            }
        )
    return {"vouchers": report}


@register(
    "redeem_attempts_review",
    "Redeem attempts with idempotency failures",
    tier="safe",
    safe_to_retry=True,
    params=(CODES,),
)
def redeem_attempts_review(ctx: ActionContext) -> dict:
    codes = _voucher_codes(ctx)
    rows = list(
        RedeemAttempt.objects.filter(code__in=codes, outcome__in=IDEMPOTENCY_FAILURES)
        .select_related("station")
        .order_by("-id")[:200]
    )
    for a in rows:
        ctx.log(
            f"{a.at:%Y-%m-%d %H:%M:%S} {a.code} {a.station.code if a.station else '—'} "
            f"key={a.idempotency_key[:40]} {a.outcome} HTTP {a.http_status}"
        )
    ctx.log(f"{len(rows)} idempotency failure(s) for {len(codes)} voucher(s)")
    return {"failures": len(rows), "codes": codes}


@register(
    "voucher_void_and_replace",
    "Void the voucher and issue a replacement",
    tier="operational",
    params=(
        Param("voucher_code", "Voucher code", from_impacted="vouchers.voucher"),
        REASON,
    ),
)
def voucher_void_and_replace(ctx: ActionContext) -> dict:
    voucher = _voucher(ctx.params["voucher_code"])
    if ctx.dry_run:
        ctx.log(
            f"would void {voucher.code} ({voucher.status}) and issue a replacement of "
            f"{voucher.amount} {voucher.currency}"
        )
        return {}
    try:
        replacement = voucher_services.voucher_void_and_replace(
            voucher=voucher, reason=ctx.params["reason"], actor=ctx.actor
        )
    except (PermissionDenied, ValidationError) as exc:
        raise ActionError(str(exc)) from None
    ctx.log(
        f"{voucher.code} voided; replacement {replacement.code} issued "
        f"({replacement.amount} {replacement.currency})"
    )
    incident_impacted_add(
        incident=ctx.incident,
        actor=ctx.actor,
        impacted=[
            Impacted("vouchers.voucher", replacement.pk, f"{replacement.code} (replacement)")
        ],
    )
    return {"voided": voucher.code, "replacement": replacement.code}


@register(
    "voucher_scope_set",
    "Update the voucher's station scope",
    tier="operational",
    params=(
        Param("voucher_code", "Voucher code", from_impacted="vouchers.voucher"),
        Param(
            "station_codes", "Station codes (empty = any station)", kind="str_list", required=False
        ),
        REASON,
    ),
)
def voucher_scope_set(ctx: ActionContext) -> dict:
    voucher = _voucher(ctx.params["voucher_code"])
    codes = sorted({c.upper() for c in ctx.params.get("station_codes", [])})
    stations = list(Station.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {s.code for s in stations})
    if missing:
        raise ActionError(f"Unknown station(s): {', '.join(missing)}.")
    if ctx.dry_run:
        ctx.log(f"would set {voucher.code}'s scope to {codes or 'any station'}")
        return {}
    try:
        voucher_services.voucher_scope_set(
            voucher=voucher, stations=stations, actor=ctx.actor, reason=ctx.params["reason"]
        )
    except (PermissionDenied, ValidationError) as exc:
        raise ActionError(str(exc)) from None
    ctx.log(f"{voucher.code}: scope now {codes or 'any station'}")
    return {"voucher": voucher.code, "stations": codes}
