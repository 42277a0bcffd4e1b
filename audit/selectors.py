"""Reads for the auditor's browser and export. No COUNT(*), no DISTINCT over the log."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from audit.chain import FIELDS
from audit.models import AuditEntry, AuditSeal, AuditTerm

# The browser's and the admin changelist's columns: the canonical fields but the bulky ones.
LIST_COLUMNS = tuple(name for name in FIELDS if name not in ("actor_id", "data", "request_id"))
PAGE_SIZE = 100  # as the admin changelist


# Browser filter → lookup (the indexes behind them end in (at, id): models.AuditEntry).
# Substring search (`q`) is a scan newest-first that stops once a page is full; combine it
# with another filter or a date range on years of data.
FILTER_LOOKUPS = {
    "actor": "actor_name",
    "action": "action",
    "target_type": "target_type",
    "target_id": "target_id",
    "incident": "incident_id",
    "since": "at__gte",
    "until": "at__lt",
    "q": "target_repr__icontains",
}


def _filtered(filters: dict) -> QuerySet:
    return AuditEntry.objects.filter(
        **{lookup: filters[name] for name, lookup in FILTER_LOOKUPS.items() if filters.get(name)}
    )


def _keyset(op: str, cursor: tuple[datetime, int]) -> RawSQL:
    # A row-value comparison is one index range condition on (..., at, id).
    return RawSQL(
        f'("audit_auditentry"."at", "audit_auditentry"."id") {op} (%s, %s)',
        cursor,
        output_field=BooleanField(),
    )


@dataclass(frozen=True)
class EntryPage:
    rows: list[dict]
    older: tuple[datetime, int] | None  # cursor for the next (older) page
    newer: tuple[datetime, int] | None  # cursor for the previous (newer) page


def audit_entries_page(
    *,
    filters: dict,
    before: tuple | None = None,
    after: tuple | None = None,
    size: int | None = None,
) -> EntryPage:
    """One page newest first, keyset-paginated on (at, id); one query."""
    size = size or PAGE_SIZE
    qs = _filtered(filters).values(*LIST_COLUMNS)
    if after is not None:  # going back towards newer entries
        rows = list(qs.filter(_keyset(">", after)).order_by("at", "id")[: size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        older = (rows[-1]["at"], rows[-1]["id"]) if rows else None
        newer = (rows[0]["at"], rows[0]["id"]) if rows and has_newer else None
        return EntryPage(rows=rows, older=older, newer=newer)
    if before is not None:
        qs = qs.filter(_keyset("<", before))
    rows = list(qs.order_by("-at", "-id")[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    older = (rows[-1]["at"], rows[-1]["id"]) if has_older else None
    newer = (rows[0]["at"], rows[0]["id"]) if rows and before is not None else None
    return EntryPage(rows=rows, older=older, newer=newer)


CHOICES_CACHE_SECONDS = 60


def audit_filter_choices() -> dict[str, list[str]]:
    """Suggestions for the filters: from the small terms table and the staff list
    (cached briefly: they change when the sealer meets a new action or staff join)."""
    return cache.get_or_set("audit:filter-choices", _filter_choices, CHOICES_CACHE_SECONDS)


def _filter_choices() -> dict[str, list[str]]:
    choices: dict[str, list[str]] = {AuditTerm.ACTION: [], AuditTerm.TARGET_TYPE: []}
    for kind, value in AuditTerm.objects.order_by("kind", "value").values_list("kind", "value"):
        choices[kind].append(value)
    User = get_user_model()
    choices["actor"] = list(
        User.objects.filter(is_staff=True)
        .order_by(User.USERNAME_FIELD)
        .values_list(User.USERNAME_FIELD, flat=True)[:500]
    )
    return choices


def audit_estimated_total() -> int | None:
    """The planner's row estimate (pg_class.reltuples): a number without a COUNT(*)."""
    if connection.vendor != "postgresql":
        return None
    return cache.get_or_set("audit:estimate", _estimate, CHOICES_CACHE_SECONDS)


def _estimate() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'audit_auditentry'::regclass"
        )
        row = cursor.fetchone()
    return max(row[0], 0) if row else None


def audit_entry_detail(*, entry_id: int) -> tuple[AuditEntry, AuditSeal | None] | None:
    entry = AuditEntry.objects.filter(id=entry_id).first()
    if entry is None:
        return None
    return entry, AuditSeal.objects.filter(entry_id=entry_id).first()


def audit_export_rows(
    *, filters: dict, through_id: int | None = None, chunk_size: int = 2000
) -> Iterator[dict]:
    """Sealed entries in chain (id) order with their hashes, streamed from a server-side cursor."""
    qs = _filtered(filters)
    if through_id is not None:
        qs = qs.filter(id__lte=through_id)
    return (
        qs.filter(seal__isnull=False)
        .order_by("id")
        .values(*FIELDS, "seal__prev_hash", "seal__hash")
        .iterator(chunk_size=chunk_size)
    )
