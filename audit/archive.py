"""Retention: move the oldest part of the chain out to a verified file, never edit it.

Steps: verify the whole log (chain, checkpoints, anchors); write entries 1..N (a
prefix, so the file is a contiguous chain from 64 zeros or from the previous archive)
as JSON Lines with their hashes; re-read and verify the file with the offline
verifier; then, in one transaction under the sealer's lock, sign a numbered ARCHIVE
checkpoint at entry N (the remaining chain starts from its hash) and call the
database function `audit_archive_through()` (migration 0007): the only way rows leave
the log on PostgreSQL. It runs as the NOLOGIN archiver role that owns it, deletes the
seals and entries <= N and writes the `audit.archived` entry itself. Only the owner
role may EXECUTE it, so this command runs with the owner's DATABASE_URL, never the
application's. On SQLite (`make run`, no triggers) the rows are deleted directly.
"""

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError, connection, transaction

import audit
from audit.anchors import audit_anchor_pending
from audit.checkpoints import audit_checkpoint_archive_create
from audit.export import jsonl_lines
from audit.models import AuditEntry, AuditSeal
from audit.sealing import sealer_lock
from audit.selectors import audit_export_rows
from audit.services import SYSTEM_ACTOR
from audit.verification import audit_verify
from audit.verify_export import read_jsonl, verify


class ArchiveRefused(Exception):
    pass


@dataclass(frozen=True)
class ArchiveResult:
    through_id: int
    count: int
    anchor_hash: str
    file_sha256: str


def audit_archive(*, through_id: int, out: Path, actor=None) -> ArchiveResult:
    result = audit_verify()
    if not result.ok:
        raise ArchiveRefused(f"the chain does not verify ({result.problem}); archive nothing")
    seal = AuditSeal.objects.filter(entry_id=through_id).first()
    if seal is None:
        raise ArchiveRefused(f"entry {through_id} is not a sealed entry")
    if out.exists():
        raise ArchiveRefused(f"{out} exists; choose a new file")

    digest = hashlib.sha256()
    count = 0
    with open(out, "x", encoding="utf-8") as handle:
        for line in jsonl_lines(audit_export_rows(filters={}, through_id=through_id)):
            handle.write(line)
            digest.update(line.encode("utf-8"))
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    with open(out, encoding="utf-8") as handle:
        report = io.StringIO()
        last: dict = {}

        def remember(rows):
            for row in rows:
                last.update(row)
                yield row

        if not verify(remember(read_jsonl(handle)), out=report) or last.get("hash") != seal.hash:
            raise ArchiveRefused(f"the written file does not verify: {report.getvalue().strip()}")

    actor_name = actor.get_username() if getattr(actor, "is_authenticated", False) else ""
    try:
        with transaction.atomic():
            sealer_lock()
            audit_checkpoint_archive_create(entry_id=through_id, hash=seal.hash)
            _remove_through(
                through_id,
                anchor_hash=seal.hash,
                actor_name=actor_name or SYSTEM_ACTOR,
                file=out.name,
                file_sha256=digest.hexdigest(),
            )
    except DatabaseError as exc:
        raise ArchiveRefused(
            f"the database refused to archive ({str(exc).strip()}); nothing was removed. "
            "archive_audit runs with the owner role's DATABASE_URL once the roles are set up "
            "(README, 'Database roles')"
        ) from exc
    audit_anchor_pending()  # the archive checkpoint goes out like any other
    return ArchiveResult(
        through_id=through_id, count=count, anchor_hash=seal.hash, file_sha256=digest.hexdigest()
    )


def _remove_through(
    through_id: int, *, anchor_hash: str, actor_name: str, file: str, file_sha256: str
) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT audit_archive_through(%s, %s, %s, %s)",
                [through_id, actor_name, file, file_sha256],
            )
        return
    AuditSeal.objects.filter(entry_id__lte=through_id).delete()
    removed = AuditEntry.objects.filter(id__lte=through_id).delete()[0]
    audit.record(
        action="audit.archived",
        actor_name=actor_name,
        data={
            "through_id": through_id,
            "count": removed,
            "anchor_hash": anchor_hash,
            "file": file,
            "file_sha256": file_sha256,
        },
    )
