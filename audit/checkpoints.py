"""Numbered, Ed25519-signed checkpoints of the chain head (see AuditCheckpoint).

A checkpoint is created under the sealer's lock, so numbers follow 1, 2, 3... with no
gap (the unique constraint on `number` backs that up) and each links to the one
before. `count` is the number of sealed entries from the chain's start through the
checkpoint's entry, archived ones included, carried forward from the previous
checkpoint so no checkpoint costs a full count.
"""

import logging

from django.db import transaction
from django.utils import timezone

from audit.chain import GENESIS, format_at
from audit.models import AuditCheckpoint, AuditSeal
from audit.sealing import chain_head, sealer_lock
from audit.signing import sign_checkpoint, signing_key
from audit.verify_export import checkpoint_digest

logger = logging.getLogger(__name__)


def checkpoint_record(checkpoint: AuditCheckpoint) -> dict:
    """The checkpoint as signed and anchored: the offline verifier's format."""
    return {
        "number": checkpoint.number,
        "kind": checkpoint.kind,
        "prev": checkpoint.prev,
        "entry_id": checkpoint.entry_id,
        "hash": checkpoint.hash,
        "count": checkpoint.count,
        "created_at": format_at(checkpoint.created_at),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(number__isnull=False).order_by("-number").first()


def legacy_base_entry() -> int:
    """Where counting starts before the first numbered checkpoint: the newest archive cut
    made before numbering (its count is unknown, so entries are counted from it)."""
    cut = (
        AuditCheckpoint.objects.filter(kind=AuditCheckpoint.ARCHIVE, number__isnull=True)
        .order_by("-entry_id")
        .values_list("entry_id", flat=True)
        .first()
    )
    return cut or 0


def _count_at(entry_id: int, latest: AuditCheckpoint | None) -> int:
    if latest is None:
        since = legacy_base_entry()
        return AuditSeal.objects.filter(entry_id__gt=since, entry_id__lte=entry_id).count()
    if entry_id >= latest.entry_id:
        between = AuditSeal.objects.filter(entry_id__gt=latest.entry_id, entry_id__lte=entry_id)
        return latest.count + between.count()
    between = AuditSeal.objects.filter(entry_id__gt=entry_id, entry_id__lte=latest.entry_id)
    return latest.count - between.count()


def _create(*, kind: str, entry_id: int, hash: str) -> AuditCheckpoint:
    """Sign and store the next checkpoint. Call under the sealer lock, in a transaction."""
    latest = latest_checkpoint()
    key_id, _ = signing_key()
    checkpoint = AuditCheckpoint(
        number=latest.number + 1 if latest else 1,
        kind=kind,
        created_at=timezone.now(),
        prev=checkpoint_digest(checkpoint_record(latest)) if latest else GENESIS,
        entry_id=entry_id,
        hash=hash,
        count=_count_at(entry_id, latest),
        key_id=key_id,
    )
    checkpoint.signature = sign_checkpoint(checkpoint_record(checkpoint))
    checkpoint.save(force_insert=True)
    # Also in the logs, which live elsewhere; the anchor store is the copy that counts.
    logger.info(
        "audit checkpoint #%s (%s): entry %s hash %s count %s",
        checkpoint.number,
        kind,
        entry_id,
        hash,
        checkpoint.count,
    )
    return checkpoint


def audit_checkpoint_create() -> AuditCheckpoint | None:
    """Sign the current chain head, unless the latest checkpoint already names it.

    Raises audit.signing.SigningKeyError when no signing key is configured."""
    with transaction.atomic():
        sealer_lock()
        head_id, head_hash = chain_head()
        if head_id == 0:
            return None
        latest = latest_checkpoint()
        if latest is not None and (latest.entry_id, latest.hash) == (head_id, head_hash):
            return None
        return _create(kind=AuditCheckpoint.HEAD, entry_id=head_id, hash=head_hash)


def audit_checkpoint_archive_create(*, entry_id: int, hash: str) -> AuditCheckpoint:
    """The signed cut for `archive_audit`: the remaining chain starts from this hash.
    Call inside the archive's transaction, which holds the sealer lock."""
    return _create(kind=AuditCheckpoint.ARCHIVE, entry_id=entry_id, hash=hash)
