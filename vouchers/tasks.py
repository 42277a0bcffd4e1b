"""django-q2 entry points: thin, they call one service."""

from vouchers.retention import idempotency_records_purge, redeem_attempts_purge


def idempotency_records_purge_task() -> int:
    return idempotency_records_purge()


def redeem_attempts_purge_task() -> int:
    return redeem_attempts_purge()
