"""Retention: move the oldest part of the chain out to a verified file, never edit it.

The only production caller of the maintenance hatch (audit/maintenance.py). Steps:
verify the whole chain; write entries 1..N (a prefix, so the file is a contiguous chain
from 64 zeros or from the previous archive) as JSON Lines with their hashes; re-read
and verify the file with the offline verifier; then, in one transaction, sign an
ARCHIVE checkpoint at entry N (the remaining chain starts from its hash), delete the
seals and entries <= N, and audit the archival itself.
"""

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

import audit
from audit.chain import checkpoint_signature
from audit.export import jsonl_lines
from audit.maintenance import audit_maintenance
from audit.models import AuditCheckpoint, AuditEntry, AuditSeal
from audit.selectors import audit_export_rows
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

    with transaction.atomic():
        now = timezone.now()
        AuditCheckpoint.objects.create(
            kind=AuditCheckpoint.ARCHIVE,
            created_at=now,
            entry_id=through_id,
            hash=seal.hash,
            signature=checkpoint_signature(
                entry_id=through_id, hash=seal.hash, created_at=now, kind=AuditCheckpoint.ARCHIVE
            ),
        )
        with audit_maintenance():
            AuditSeal.objects.filter(entry_id__lte=through_id).delete()
            AuditEntry.objects.filter(id__lte=through_id).delete()
        audit.record(
            action="audit.archived",
            actor=actor,
            data={
                "through_id": through_id,
                "count": count,
                "anchor_hash": seal.hash,
                "file": out.name,
                "file_sha256": digest.hexdigest(),
            },
        )
    return ArchiveResult(
        through_id=through_id, count=count, anchor_hash=seal.hash, file_sha256=digest.hexdigest()
    )
