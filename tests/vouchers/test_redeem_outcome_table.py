"""One table says what each redeem outcome answers (vouchers/redeem_outcomes.py): the SQL
statement's status CASE is generated from it, the ORM engine looks statuses up in it, and
both agree for every outcome — evaluated directly, and through the API with each engine."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.vouchers.conftest import raw_connection
from vouchers.models import RedeemAttempt, RedeemOutcome, RedeemRateWindow, Voucher
from vouchers.redeem_outcomes import OUTCOMES, STORED_OUTCOMES, outcome_status, outcome_status_sql
from vouchers.redeem_sql import REDEEM_SQL, sql_compact
from vouchers.services import station_create, voucher_void

pytestmark = pytest.mark.django_db
REPLAYED_STATUS = 404  # what a replay repeats: the stored response's status


def test_every_outcome_has_exactly_one_rule():
    assert set(OUTCOMES) == set(RedeemOutcome.values)
    assert OUTCOMES["replayed"].status is None  # a replay repeats the stored status
    assert "replayed" not in STORED_OUTCOMES and "request_in_progress" not in STORED_OUTCOMES


def test_the_statement_carries_the_generated_case():
    case = outcome_status_sql(outcome="d.o", replayed_status="d.ps")
    assert f"{sql_compact(case)} AS hs" in REDEEM_SQL


@pytest.mark.parametrize("outcome", RedeemOutcome.values)
def test_sql_case_and_orm_lookup_agree(outcome):
    case = outcome_status_sql(outcome="d.o", replayed_status="d.ps")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {case} FROM (SELECT %s::text AS o, %s::int AS ps) AS d",
            [outcome, REPLAYED_STATUS],
        )
        (sql_status,) = cursor.fetchone()
    python_status = outcome_status(outcome, replayed_status=REPLAYED_STATUS)
    assert sql_status == python_status
    rule = OUTCOMES[outcome]
    assert python_status == (REPLAYED_STATUS if rule.status is None else rule.status)


def _hold_key(station, key):
    """Another session holding the (station, key) lock the statement tries (→ in progress)."""
    other = raw_connection()
    other.execute(
        "SELECT pg_advisory_lock(hashtextextended(%s::text || ':' || %s, 0))", [station.pk, key]
    )
    return other


@pytest.mark.parametrize("engine", ["sql", "orm"])
def test_each_engine_answers_every_outcome_with_the_table_status(
    engine, settings, station_with_token, voucher_factory, redeem
):
    settings.REDEEM_ENGINE = engine
    station, token = station_with_token
    other = station_create(code="HUY-002", name="Huye").station
    issued, void, expired = voucher_factory(count=3)
    voucher_void(voucher=void, reason="lost", actor=None)
    Voucher.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    scoped = voucher_factory(stations=[other])

    calls = [
        ("redeemed", dict(body={"code": issued.code}, key="k-1")),
        ("replayed", dict(body={"code": issued.code}, key="k-1")),
        ("idempotency_key_reused", dict(body={"code": void.code}, key="k-1")),
        ("already_redeemed", dict(body={"code": issued.code})),
        ("not_found", dict(body={"code": "V-NOPE"})),
        ("out_of_scope", dict(body={"code": scoped.code})),
        ("voucher_void", dict(body={"code": void.code})),
        ("voucher_expired", dict(body={"code": expired.code})),
        ("invalid_request", dict(body={"code": issued.code}, key=None)),
        ("unauthorized", dict(body={"code": issued.code}, token="stn_not-a-real-token-000000")),
    ]
    seen = []
    for expected, call in calls:
        response = redeem(call.get("token", token), call["body"], key=call.get("key", "auto"))
        stored = 200 if expected == "replayed" else None
        assert response.status_code == outcome_status(expected, replayed_status=stored), expected
        seen.append(expected)
    if engine == "sql":  # the ORM engine waits for the other request instead (redeem_orm.py)
        holder = _hold_key(station, "busy")
        try:
            response = redeem(token, {"code": issued.code}, key="busy")
        finally:
            holder.close()
        assert json.loads(response.content) == {"error": "request_in_progress"}
        assert response.status_code == outcome_status("request_in_progress")
        seen.append("request_in_progress")
    now = timezone.now().replace(second=0, microsecond=0)
    for minute in (now, now + timedelta(minutes=1)):  # this minute's window, or the next's
        RedeemRateWindow.objects.update_or_create(
            station=station, window_start=minute, defaults={"hits": 10_000}
        )
    response = redeem(token, {"code": issued.code})
    assert response.status_code == outcome_status("rate_limited")
    seen.append("rate_limited")

    assert set(seen) >= set(OUTCOMES) - {"request_in_progress"}
    attempts = list(RedeemAttempt.objects.order_by("id").values_list("outcome", "http_status"))
    assert [outcome for outcome, _ in attempts] == seen
    for outcome, http_status in attempts:
        stored = 200 if outcome == "replayed" else None
        assert http_status == outcome_status(outcome, replayed_status=stored)
