"""The per-station rate window, counted in its own short transaction before the redemption
(vouchers/redeem_sql.py RATE_SQL): a station's requests no longer queue behind one
another's redemption. That the limit stays exact under concurrency:
test_redeem_concurrency.py."""

import threading

import pytest
from django.db import connection
from django.test import Client

from tests.vouchers.conftest import raw_connection
from vouchers.models import RedeemRateWindow

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_no_limit_counts_nothing(station_with_token, voucher_factory, redeem, settings):
    settings.REDEEM_RATE_LIMIT_PER_MINUTE = 0
    _, token = station_with_token

    assert redeem(token, {"code": voucher_factory().code}).status_code == 200
    assert not RedeemRateWindow.objects.exists()
