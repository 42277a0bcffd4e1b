"""The sealer: links committed entries into the hash chain, in id order, after commit.

`audit.record` only INSERTs (no lock, no read of the chain head), so auditing
never queues behind the chain. One sealer at a time (a transaction-scoped
advisory lock on PostgreSQL; SQLite serialises writers anyway) appends one
`AuditSeal` per entry.

Which ids are safe to seal? Ids come from a sequence, handed out at INSERT time
but visible only at COMMIT, so a lower id can appear after a higher one has been
sealed. The sealer therefore seals only up to a horizon it knows is complete:

1. read H, the sequence's last handed-out value: every id <= H belongs to a
   transaction that had already started by now;
2. note T = clock_timestamp() (after step 1);
3. wait (briefly) until no other client session of this database has a
   transaction that started at or before T (pg_stat_activity.xact_start) and may
   still hold an id: a session that has no transaction id (it has written nothing,
   and an INSERT assigns one) and is not running a statement holds none.

Then every transaction that could own an id <= H has committed or rolled back,
so ids <= H that are not visible never will be (rolled-back gaps) and the
prefix is complete. A transaction left open for long only delays sealing; it
can never make the sealer skip an entry. (The sessions of every role that writes
audit entries must be visible in pg_stat_activity: the same role, or
pg_read_all_stats.)
"""

import logging
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from audit.chain import FIELDS, GENESIS, row_hash
from audit.models import AuditCheckpoint, AuditEntry, AuditSeal, AuditTerm

logger = logging.getLogger(__name__)

SEALER_LOCK_KEY = 0x6F70_6175_6469_7401  # one advisory lock id for "the audit sealer"
UNBOUNDED = 2**63 - 1


@dataclass(frozen=True)
class SealResult:
    sealed: int
    head_id: int
    head_hash: str
    waiting: bool = False  # an older transaction was still open; nothing past it was sealed


def _safe_horizon(max_wait: float) -> int | None:
    """The highest id known complete, or None when an old transaction is still open."""
    if connection.vendor != "postgresql":
        return UNBOUNDED  # SQLite: one writer at a time, so ids become visible in order
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence('audit_auditentry', 'id'))"
        )
        high = cursor.fetchone()[0]
        if high is None:
            return 0
        cursor.execute("SELECT clock_timestamp()")
        started_before = cursor.fetchone()[0]
        deadline = time.monotonic() + max_wait
        while True:
            # pg_stat_activity is a per-transaction snapshot; clear it to see the present.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                " AND xact_start <= %s"
                " AND NOT (backend_xid IS NULL AND state IN"
                "  ('idle', 'idle in transaction', 'idle in transaction (aborted)'))",
                [started_before],
            )
            if cursor.fetchone()[0] == 0:
                return high
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)


def chain_head() -> tuple[int, str]:
    """(entry id, hash) the next seal links to: the newest seal, or, when archiving took
    every seal, the newest archive checkpoint; (0, 64 zeros) for an empty log."""
    head = AuditSeal.objects.order_by("-entry_id").values_list("entry_id", "hash").first()
    if head:
        return head
    cut = (
        AuditCheckpoint.objects.filter(kind=AuditCheckpoint.ARCHIVE)
        .order_by("-entry_id")
        .values_list("entry_id", "hash")
        .first()
    )
    return cut or (0, GENESIS)


def sealer_lock() -> None:
    """Wait for the sealer's lock, for this transaction (checkpoints and archiving)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK_KEY])


def _try_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEALER_LOCK_KEY])
        return cursor.fetchone()[0]


def _seal_batch(horizon: int, batch_size: int) -> tuple[int, int, str] | None:
    """Seal the next batch; None if another sealer holds the lock."""
    with transaction.atomic():
        if not _try_lock():
            return None
        head_id, head_hash = chain_head()
        rows = list(
            AuditEntry.objects.filter(id__gt=head_id, id__lte=horizon)
            .order_by("id")
            .values(*FIELDS)[:batch_size]
        )
        now = timezone.now()
        seals = []
        for row in rows:
            link = row_hash(head_hash, row)
            seals.append(
                AuditSeal(entry_id=row["id"], prev_hash=head_hash, hash=link, sealed_at=now)
            )
            head_id, head_hash = row["id"], link
        AuditSeal.objects.bulk_create(seals)
        terms = {(AuditTerm.ACTION, r["action"]) for r in rows}
        terms |= {(AuditTerm.TARGET_TYPE, r["target_type"]) for r in rows if r["target_type"]}
        AuditTerm.objects.bulk_create(
            [AuditTerm(kind=k, value=v) for k, v in sorted(terms)], ignore_conflicts=True
        )
        return len(rows), head_id, head_hash


def audit_seal(*, max_wait: float = 2.0, batch_size: int = 5000) -> SealResult:
    """Seal every entry up to the safe horizon; returns what was done."""
    horizon = _safe_horizon(max_wait)
    if horizon is None:
        head_id, head_hash = chain_head()
        logger.info("audit sealer: waiting for a transaction older than the newest entries")
        return SealResult(sealed=0, head_id=head_id, head_hash=head_hash, waiting=True)
    sealed = 0
    while True:
        batch = _seal_batch(horizon, batch_size)
        if batch is None:  # another sealer is running; it will take these entries
            head_id, head_hash = chain_head()
            return SealResult(sealed=sealed, head_id=head_id, head_hash=head_hash)
        count, head_id, head_hash = batch
        sealed += count
        if count < batch_size:
            return SealResult(sealed=sealed, head_id=head_id, head_hash=head_hash)
