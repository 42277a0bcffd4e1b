"""409 request_in_progress: the same (station, key) is held by a request still running."""

import json

import pytest

from tests.vouchers.conftest import raw_connection
from vouchers.models import RedeemAttempt


@pytest.mark.django_db(transaction=True)
def test_key_held_by_a_running_request_is_request_in_progress(
    station_with_token, voucher_factory, redeem
):
    station, token = station_with_token
    voucher = voucher_factory()
    with raw_connection() as other:
        # What the redeem statement takes for (station, key) while it runs.
        other.execute(
            "SELECT pg_advisory_lock(hashtextextended(%s::text || ':' || %s, 0))",
            [station.pk, "busy-key"],
        )
        response = redeem(token, {"code": voucher.code}, key="busy-key")
        assert response.status_code == 409
        assert json.loads(response.content) == {"error": "request_in_progress"}
        voucher.refresh_from_db()
        assert voucher.status == "issued"
        # Released here, not by closing: a closed session's locks go when its server
        # process ends, which may be a moment after the client has moved on.
        other.execute("SELECT pg_advisory_unlock_all()")
    # Once the holder is gone the key works, and the in-progress answer was not stored.
    assert redeem(token, {"code": voucher.code}, key="busy-key").status_code == 200
    assert list(RedeemAttempt.objects.order_by("id").values_list("outcome", flat=True)) == [
        "request_in_progress",
        "redeemed",
    ]
