"""The per-station rate window, counted in its own short transaction before the redemption
(vouchers/redeem_sql.py RATE_SQL): exact under real concurrency, and a station's requests
no longer queue behind one another's redemption."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from tests.vouchers.conftest import raw_connection, run_in_threads
from vouchers.models import RedeemAttempt, RedeemRateWindow

pytestmark = pytest.mark.django_db(transaction=True)


def test_limit_is_exact_under_concurrency(station_with_token, voucher_factory, redeem, settings):
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


def _waiting_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_stations_requests_do_not_wait_for_its_redemption_in_flight(
    station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    held, free = voucher_factory(count=2)
    holder = raw_connection()  # holds `held`'s row: its redemption blocks mid-statement
    holder.execute("BEGIN")
    holder.execute("SELECT 1 FROM vouchers_voucher WHERE id = %s FOR UPDATE", [held.pk])
    results = {}

    def post(name, code):
        try:
            results[name] = redeem(token, {"code": code}, client=Client())
        finally:
            connection.close()

    blocked = threading.Thread(target=post, args=("held", held.code))
    blocked.start()
    try:
        for _ in range(600):  # until its statement waits on the row lock (or 60 s)
            if _waiting_backends():
                break
            threading.Event().wait(0.1)
        assert _waiting_backends() == 1
        other = threading.Thread(target=post, args=("free", free.code))
        other.start()
        other.join(timeout=60)
        # Counted inside the redemption, the station's window row would stay locked by
        # the blocked request until it ends: this one would wait for it.
        assert "free" in results and blocked.is_alive()
        assert results["free"].status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        blocked.join(timeout=60)
    assert results["held"].status_code == 200
    assert RedeemRateWindow.objects.get().hits == 2


def test_the_rate_window_table_is_unlogged():
    """Its transactions then write no WAL and commit without waiting for a flush."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE oid = 'vouchers_redeemratewindow'::regclass"
        )
        assert cursor.fetchone()[0] == "u"
