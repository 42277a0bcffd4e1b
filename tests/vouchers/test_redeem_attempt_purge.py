"""The redeem attempt log is kept for REDEEM_ATTEMPT_RETENTION_DAYS, then purged daily."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from vouchers.models import RedeemAttempt
from vouchers.retention import redeem_attempts_purge
from vouchers.tasks import redeem_attempts_purge_task

pytestmark = pytest.mark.django_db


def test_purge_deletes_only_attempts_past_retention_in_batches(
    station_with_token, voucher_factory, redeem, settings
):
    settings.REDEEM_ATTEMPT_RETENTION_DAYS = 90
    _, token = station_with_token
    for i in range(5):
        redeem(token, {"code": f"NO-SUCH-{i}"}, key=f"old-{i}")
    redeem(token, {"code": voucher_factory().code}, key="fresh")
    RedeemAttempt.objects.filter(idempotency_key__startswith="old-").update(
        at=timezone.now() - timedelta(days=90, minutes=1)
    )
    RedeemAttempt.objects.filter(idempotency_key="old-4").update(
        at=timezone.now() - timedelta(days=89)
    )

    assert redeem_attempts_purge(batch=2) == 4
    assert sorted(RedeemAttempt.objects.values_list("idempotency_key", flat=True)) == [
        "fresh",
        "old-4",
    ]
    assert redeem_attempts_purge() == 0


def test_purge_is_scheduled_daily():
    schedule = Schedule.objects.get(func="vouchers.tasks.redeem_attempts_purge_task")
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1
    assert redeem_attempts_purge_task() == 0
