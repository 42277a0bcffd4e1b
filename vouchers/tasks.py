"""django-q2 entry points: thin, they call one service."""

from vouchers.services import idempotency_records_purge


def idempotency_records_purge_task() -> int:
    return idempotency_records_purge()
