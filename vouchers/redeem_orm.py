"""The redemption through the ORM, for databases other than PostgreSQL (SQLite under
`make run`). Same rules and the same response bytes as vouchers.redeem_sql, which the
contract tests check by running against both (settings.REDEEM_ENGINE = "orm").

Concurrency here relies on the database serialising writers (SQLite's IMMEDIATE
transactions) or on row locks (`select_for_update`) and the (station, key) unique
constraint; it never answers `request_in_progress` (a concurrent same-key request
waits, then replays).
"""

import json
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vouchers.models import (
    IdempotencyRecord,
    RedeemAttempt,
    RedeemRateWindow,
    Station,
    Voucher,
    VoucherEvent,
)
from vouchers.redeem_outcomes import STORED_OUTCOMES, outcome_status


def _jsonb_order(value):
    """Key order of PostgreSQL's jsonb (shorter keys first), so bodies match byte for byte."""
    if isinstance(value, dict):
        return {k: _jsonb_order(value[k]) for k in sorted(value, key=lambda k: (len(k), k))}
    return value


def _dumps(body: dict) -> str:
    return json.dumps(_jsonb_order(body), ensure_ascii=False)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hits(station: Station, now: datetime) -> int:
    window = now.replace(second=0, microsecond=0)
    rows = RedeemRateWindow.objects.filter(station=station, window_start=window)
    if not rows.update(hits=F("hits") + 1):
        try:
            with transaction.atomic():
                RedeemRateWindow.objects.create(station=station, window_start=window, hits=1)
        except IntegrityError:  # another request opened the window first
            rows.update(hits=F("hits") + 1)
    return rows.values_list("hits", flat=True).get()


def _decide(voucher: Voucher | None, station: Station, now: datetime) -> str:
    if voucher is None:
        return "not_found"
    scope = set(voucher.station_scope.values_list("id", flat=True))
    if scope and station.pk not in scope:
        return "out_of_scope"
    if voucher.status == Voucher.Status.VOID:
        return "voucher_void"
    if voucher.status == Voucher.Status.REDEEMED:
        return "already_redeemed"
    if voucher.status == Voucher.Status.EXPIRED or (
        voucher.expires_at is not None and voucher.expires_at <= now
    ):
        return "voucher_expired"
    return "redeemed" if voucher.status == Voucher.Status.ISSUED else "voucher_void"


@transaction.atomic
def redeem_orm_run(p: dict) -> tuple:
    """The same row as the SQL statement returns: (outcome, status, body, voucher id,
    voucher code, station code, amount, currency, retry_after)."""
    started = timezone.now()
    now = started
    station = (
        Station.objects.filter(token_hash=p["th"], active=True).only("id", "code").first()
        if p["th"]
        else None
    )
    voucher = None
    body: dict = {}
    status = None
    if station is None:
        outcome = "unauthorized"
    elif p["l"] > 0 and _hits(station, now) > p["l"]:
        outcome = "rate_limited"
    elif not p["ok"]:
        outcome = "invalid_request"
    else:
        outcome = None
    if outcome is None:
        prev = IdempotencyRecord.objects.filter(station=station, key=p["k"]).first()
        if prev is not None and prev.fingerprint == p["f"]:
            outcome, status, body = "replayed", prev.status_code, prev.body
        elif prev is not None:
            outcome = "idempotency_key_reused"
        else:
            voucher = Voucher.objects.select_for_update().filter(code=p["c"]).first()
            outcome = _decide(voucher, station, now)
    if outcome == "redeemed":
        Voucher.objects.filter(pk=voucher.pk).update(
            status=Voucher.Status.REDEEMED, redeemed_at=now, redeemed_by=station
        )
        VoucherEvent.objects.create(
            voucher=voucher,
            kind=VoucherEvent.Kind.REDEEMED,
            station=station,
            actor_name=f"station:{station.code}",
            at=now,
            data={"idempotency_key": p["ak"], "reference": p["ar"]},
        )
        body = {
            "status": "redeemed",
            "voucher": {
                "code": voucher.code,
                "amount": str(voucher.amount),
                "currency": voucher.currency,
                "redeemed_at": _ts(now),
                "station": station.code,
            },
        }
    elif outcome == "already_redeemed":
        body = {
            "error": outcome,
            "redeemed_at": _ts(voucher.redeemed_at),
            "station": voucher.redeemed_by.code,
        }
    elif outcome != "replayed":
        body = {"error": outcome}
    status = outcome_status(outcome, replayed_status=status)
    body = _jsonb_order(body)
    if outcome in STORED_OUTCOMES:
        IdempotencyRecord.objects.create(
            station=station,
            key=p["k"],
            fingerprint=p["f"],
            status_code=status,
            body=body,
            created_at=now,
        )
    elapsed = (timezone.now() - started) / timedelta(milliseconds=1)
    RedeemAttempt.objects.create(
        at=now,
        station=station,
        idempotency_key=p["lk"],
        code=p["lc"],
        reference=p["lr"],
        outcome=outcome,
        http_status=status,
        latency_ms=p["ms"] + elapsed,
        request_id=p["q"],
    )
    return (
        outcome,
        status,
        _dumps(body),
        voucher.pk if voucher else None,
        voucher.code if voucher else None,
        station.code if station else None,
        str(voucher.amount) if voucher else None,
        voucher.currency if voucher else None,
        60 - now.second,
    )
