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

LIST_COLUMNS = (
    "id",
    "at",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "incident_id",
)
PAGE_SIZE = 100  # as the admin changelist


def _filtered(filters: dict) -> QuerySet:
    qs = AuditEntry.objects.all()
    if filters.get("actor"):
        qs = qs.filter(actor_name=filters["actor"])
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("target_type"):
        qs = qs.filter(target_type=filters["target_type"])
    if filters.get("target_id"):
        qs = qs.filter(target_id=filters["target_id"])
    if filters.get("incident"):
        qs = qs.filter(incident_id=filters["incident"])
    if filters.get("since"):
        qs = qs.filter(at__gte=filters["since"])
    if filters.get("until"):
        qs = qs.filter(at__lt=filters["until"])
    if filters.get("q"):
        # Substring search is a scan newest-first that stops once a page is full;
        # combine it with another filter or a date range on years of data.
        qs = qs.filter(target_repr__icontains=filters["q"])
    return qs


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
