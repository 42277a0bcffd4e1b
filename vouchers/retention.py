"""Retention of the redeem API's own records: idempotency records, rate windows, the
attempt log (django-q2 schedules in vouchers/migrations call these through vouchers.tasks)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from vouchers.models import IdempotencyRecord, RedeemAttempt, RedeemRateWindow


def idempotency_records_purge(*, now=None) -> int:
    """Delete idempotency records past the retention and finished rate windows."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REDEEM_IDEMPOTENCY_RETENTION_DAYS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    RedeemRateWindow.objects.filter(window_start__lt=now - timedelta(hours=1)).delete()
    return deleted


ATTEMPT_PURGE_BATCH = 10_000


def redeem_attempts_purge(*, now=None, batch: int = ATTEMPT_PURGE_BATCH) -> int:
    """Delete redeem attempts older than REDEEM_ATTEMPT_RETENTION_DAYS, in short batches.

    One row per redeem call adds up to millions a day; deleting them in one statement
    would hold a long transaction and bloat the WAL in a burst, so each batch commits.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REDEEM_ATTEMPT_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(
            RedeemAttempt.objects.filter(at__lt=cutoff)
            .order_by("at")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return total
        deleted, _ = RedeemAttempt.objects.filter(id__in=ids).delete()
        total += deleted
