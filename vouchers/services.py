import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text, redact
from vouchers.models import (
    CURRENCY,
    STATION_CODE,
    Station,
    Voucher,
    VoucherEvent,
)
from vouchers.tokens import station_token_generate, station_token_hash

# No 0/O, 1/I/L: codes are read aloud and typed by attendants.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_ISSUE_BATCH = 100_000


@dataclass(frozen=True)
class IssuedStation:
    station: Station
    token: str  # shown once, never stored


def voucher_code_generate() -> str:
    groups = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "V-" + "-".join(groups)


@transaction.atomic
def station_create(*, code: str, name: str, actor=None) -> IssuedStation:
    code = code.strip().upper()
    STATION_CODE(code)
    if not name.strip():
        raise ValidationError("A station needs a name.")
    if Station.objects.filter(code=code).exists():
        raise ValidationError(f"Station {code} already exists.")
    token = station_token_generate()
    station = Station.objects.create(
        code=code,
        name=name.strip(),
        token_hash=station_token_hash(token),
        token_issued_at=timezone.now(),
    )
    audit.record(action="station.created", actor=actor, target=station, data={"code": code})
    return IssuedStation(station=station, token=token)


@transaction.atomic
def station_token_rotate(*, station: Station, actor=None) -> str:
    """Issue a new token; the old one stops working at once."""
    token = station_token_generate()
    station.token_hash = station_token_hash(token)
    station.token_issued_at = timezone.now()
    station.save(update_fields=["token_hash", "token_issued_at"])
    audit.record(action="station.token_rotated", actor=actor, target=station)
    return token


def vouchers_issue(
    *,
    count: int,
    amount: Decimal,
    currency: str,
    stations: Sequence[Station] = (),
    expires_in_days: int | None = None,
    actor=None,
) -> list[Voucher]:
    """Issue `count` vouchers with fresh unique codes, one `issued` event each."""
    if not 1 <= count <= MAX_ISSUE_BATCH:
        raise ValidationError(f"count must be between 1 and {MAX_ISSUE_BATCH}.")
    amount = Decimal(amount)
    if amount <= 0 or amount.as_tuple().exponent < -2:
        raise ValidationError("amount must be positive with at most two decimal places.")
    CURRENCY(currency)
    if expires_in_days is not None and expires_in_days < 1:
        raise ValidationError("expires-in-days must be at least 1.")
    for attempt in range(3):
        try:
            return _vouchers_insert(count, amount, currency, stations, expires_in_days, actor)
        except IntegrityError:  # a code collided with an existing one: draw again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _vouchers_insert(count, amount, currency, stations, expires_in_days, actor) -> list[Voucher]:
    now = timezone.now()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(voucher_code_generate())
    vouchers = Voucher.objects.bulk_create(
        [Voucher(code=c, amount=amount, currency=currency, expires_at=expires_at) for c in codes]
    )
    if stations:
        Scope = Voucher.station_scope.through
        Scope.objects.bulk_create(
            [Scope(voucher_id=v.pk, station_id=s.pk) for v in vouchers for s in stations]
        )
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    VoucherEvent.objects.bulk_create(
        [
            VoucherEvent(
                voucher=v,
                kind=VoucherEvent.Kind.ISSUED,
                actor=actor_user,
                actor_name=actor_user.get_username() if actor_user else "system",
                at=now,
                data={"amount": str(amount), "currency": currency},
            )
            for v in vouchers
        ]
    )
    audit.record(
        action="vouchers.issued",
        actor=actor,
        target_type="vouchers.voucher",
        target_repr=f"{count} × {amount} {currency}",
        data={
            "count": count,
            "amount": str(amount),
            "currency": currency,
            "station_scope": [s.code for s in stations],
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return vouchers


# --- Voucher operations (Station Redeem runbook). The incidents runbook engine calls
# these by name; the permission rule lives here so every entry point shares it.

OPERATE_PERMISSION = "vouchers.operate_voucher"
MAX_REASON_LENGTH = 500


def _operation_check(*, actor, reason: str) -> str:
    """The permission and reason rules of every voucher operation; actor None = the system."""
    if actor is not None and not actor.has_perm(OPERATE_PERMISSION):
        raise PermissionDenied("You may not operate vouchers (needs the ops role).")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required.")
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"The reason must be at most {MAX_REASON_LENGTH} characters.")
    return mask_text(reason)  # a credential pasted into a reason is never stored


def _actor_fields(actor) -> dict:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return {"actor": user, "actor_name": user.get_username() if user else "system"}


def _event(voucher: Voucher, kind: str, actor, data: dict) -> VoucherEvent:
    return VoucherEvent.objects.create(
        voucher=voucher, kind=kind, at=timezone.now(), data=redact(data), **_actor_fields(actor)
    )


def _locked(voucher: Voucher) -> Voucher:
    # The redeem statement locks the same row, so an operation and a redemption never interleave.
    return Voucher.objects.select_for_update().get(pk=voucher.pk)


@transaction.atomic
def voucher_void(*, voucher: Voucher, reason: str, actor) -> Voucher:
    """Mark a voucher void (it can no longer be redeemed). Voiding a void voucher changes nothing."""
    reason = _operation_check(actor=actor, reason=reason)
    voucher = _locked(voucher)
    if voucher.status == Voucher.Status.VOID:
        return voucher
    before = voucher.status
    voucher.status = Voucher.Status.VOID
    voucher.save(update_fields=["status"])
    _event(voucher, VoucherEvent.Kind.VOIDED, actor, {"reason": reason, "status_before": before})
    audit.record(
        action="voucher.voided",
        actor=actor,
        target=voucher,
        data={"reason": reason, "status_before": before},
    )
    return voucher


@transaction.atomic
def voucher_void_and_replace(*, voucher: Voucher, reason: str, actor) -> Voucher:
    """Void `voucher` and issue a replacement with the same amount, currency, scope and expiry.

    The runbook's answer to a double redemption. Idempotent: a voucher already
    replaced returns its existing replacement.
    """
    reason = _operation_check(actor=actor, reason=reason)
    voucher = _locked(voucher)
    if voucher.replaced_by_id:
        return voucher.replaced_by
    before = voucher.status
    stations = list(voucher.station_scope.all())
    replacement = None
    for attempt in range(3):
        try:
            with transaction.atomic():
                replacement = Voucher.objects.create(
                    code=voucher_code_generate(),
                    amount=voucher.amount,
                    currency=voucher.currency,
                    expires_at=voucher.expires_at,
                )
            break
        except IntegrityError:  # code collision: draw again
            if attempt == 2:
                raise
    replacement.station_scope.set(stations)
    voucher.status = Voucher.Status.VOID
    voucher.replaced_by = replacement
    voucher.save(update_fields=["status", "replaced_by"])
    _event(
        voucher,
        VoucherEvent.Kind.REPLACED,
        actor,
        {"reason": reason, "status_before": before, "replacement": replacement.code},
    )
    _event(
        replacement,
        VoucherEvent.Kind.REPLACEMENT_ISSUED,
        actor,
        {
            "reason": reason,
            "replaces": voucher.code,
            "amount": str(voucher.amount),
            "currency": voucher.currency,
        },
    )
    audit.record(
        action="voucher.replaced",
        actor=actor,
        target=voucher,
        data={
            "reason": reason,
            "status_before": before,
            "replacement": replacement.code,
            "replacement_id": replacement.pk,
            "amount": str(voucher.amount),
            "currency": voucher.currency,
            "station_scope": [s.code for s in stations],
        },
    )
    return replacement


@transaction.atomic
def voucher_scope_set(
    *, voucher: Voucher, stations: Sequence[Station], actor, reason: str
) -> Voucher:
    """Set which stations may redeem the voucher (empty = any station)."""
    reason = _operation_check(actor=actor, reason=reason)
    voucher = _locked(voucher)
    before = sorted(s.code for s in voucher.station_scope.all())
    after = sorted({s.code for s in stations})
    if before == after:
        return voucher
    voucher.station_scope.set(list(stations))
    data = {"reason": reason, "before": before, "after": after}
    _event(voucher, VoucherEvent.Kind.SCOPE_CHANGED, actor, data)
    audit.record(action="voucher.scope_changed", actor=actor, target=voucher, data=data)
    return voucher
