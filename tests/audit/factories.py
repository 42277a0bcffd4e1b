"""Audit entries with chosen times, for browser tests (the app itself writes via audit.record)."""

from datetime import UTC, datetime, timedelta

from audit.models import AuditEntry

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def entries(n: int, *, start: datetime = T0, step: timedelta = timedelta(hours=1), **fields):
    """n entries, one per `step` from `start`; `fields` may be callables of the index."""
    rows = []
    for i in range(n):
        values = {k: (v(i) if callable(v) else v) for k, v in fields.items()}
        values.setdefault("actor_name", "system")
        values.setdefault("action", "test.browse")
        rows.append(AuditEntry(at=start + i * step, **values))
    return AuditEntry.objects.bulk_create(rows)
