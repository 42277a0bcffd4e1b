"""Idempotency records expire after the retention; the purge is scheduled."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from vouchers.models import IdempotencyRecord
from vouchers.retention import idempotency_records_purge
from vouchers.tasks import idempotency_records_purge_task

pytestmark = pytest.mark.django_db


def test_purge_deletes_only_records_past_retention(
    station_with_token, voucher_factory, redeem, settings
):
    settings.REDEEM_IDEMPOTENCY_RETENTION_DAYS = 7
    _, token = station_with_token
    old, fresh = voucher_factory(count=2)
    redeem(token, {"code": old.code}, key="old")
    redeem(token, {"code": fresh.code}, key="fresh")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=7, minutes=1)
    )

    assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    # The key is free again once its record expired: a new body is processed, not 422.
    assert redeem(token, {"code": "V-OTHER"}, key="old").status_code == 404


def test_purge_is_scheduled():
    schedule = Schedule.objects.get(func="vouchers.tasks.idempotency_records_purge_task")
    assert schedule.schedule_type == Schedule.HOURLY
    assert schedule.repeats == -1
    assert idempotency_records_purge_task() == 0
