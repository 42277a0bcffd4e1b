"""Redemption under real concurrency: threads, each with its own PostgreSQL connection."""

import json
from collections import Counter

import pytest
from django.test import Client

from tests.vouchers.conftest import run_in_threads
from vouchers.models import RedeemAttempt, RedeemRateWindow, VoucherEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("engine", ["sql", "orm"])
def test_fifty_keys_one_voucher_redeems_once(
    station_with_token, voucher_factory, redeem, settings, engine
):
    settings.REDEEM_ENGINE = engine
    _, token = station_with_token
    voucher = voucher_factory()

    responses = run_in_threads(
        50, lambda i: redeem(token, {"code": voucher.code}, key=f"k-{i}", client=Client())
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 49}
    winner = json.loads(next(r.content for r in responses if r.status_code == 200))
    for r in responses:
        if r.status_code == 409:
            assert json.loads(r.content) == {
                "error": "already_redeemed",
                "redeemed_at": winner["voucher"]["redeemed_at"],
                "station": "KGL-001",
            }
    assert VoucherEvent.objects.filter(voucher=voucher, kind="redeemed").count() == 1
    assert RedeemAttempt.objects.count() == 50


def test_twenty_requests_same_key_and_body_redeem_once(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()

    responses = run_in_threads(
        20, lambda i: redeem(token, {"code": voucher.code}, key="same-key", client=Client())
    )

    fresh = [r for r in responses if r.status_code == 200 and "Idempotent-Replayed" not in r]
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    in_progress = [
        r
        for r in responses
        if r.status_code == 409 and json.loads(r.content) == {"error": "request_in_progress"}
    ]
    assert len(fresh) == 1
    assert len(fresh) + len(replayed) + len(in_progress) == 20
    assert all(r.status_code == 200 and r.content == fresh[0].content for r in replayed)
    assert VoucherEvent.objects.filter(voucher=voucher, kind="redeemed").count() == 1
    outcomes = Counter(RedeemAttempt.objects.values_list("outcome", flat=True))
    assert outcomes["redeemed"] == 1
    assert sum(outcomes.values()) == 20


def test_same_key_different_codes_concurrently_redeem_at_most_one(
    station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    vouchers = voucher_factory(count=10)

    responses = run_in_threads(
        10, lambda i: redeem(token, {"code": vouchers[i].code}, key="k", client=Client())
    )

    assert sum(r.status_code == 200 for r in responses) == 1
    assert {r.status_code for r in responses} <= {200, 409, 422}
    assert VoucherEvent.objects.filter(kind="redeemed").count() == 1


def test_rate_limit_holds_across_connections(station_with_token, voucher_factory, redeem, settings):
    settings.REDEEM_RATE_LIMIT_PER_MINUTE = 7
    station, token = station_with_token
    vouchers = voucher_factory(count=40)

    responses = run_in_threads(
        40, lambda i: redeem(token, {"code": vouchers[i].code}, client=Client())
    )

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 429}, statuses
    windows = list(RedeemRateWindow.objects.filter(station=station).values_list("hits", flat=True))
    # Every request counted once; each window (a minute may turn during the run) let
    # exactly its first 7 through.
    assert sum(windows) == 40
    assert statuses[200] == sum(min(7, hits) for hits in windows)
    outcomes = Counter(RedeemAttempt.objects.values_list("outcome", flat=True))
    assert outcomes == {"redeemed": statuses[200], "rate_limited": statuses[429]}
