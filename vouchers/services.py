import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from vouchers.models import CURRENCY, STATION_CODE, Station, Voucher, VoucherEvent
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
        code=code, name=name.strip(), token_hash=station_token_hash(token), token_issued_at=timezone.now()
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
