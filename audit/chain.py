"""The hash chain's arithmetic, shared by the sealer, `verify_audit` and the export.

The canonical serialisation lives in audit/verify_export.py (the offline script
auditors copy), so the server and the script can never disagree about it.
"""

import hashlib
import hmac
from datetime import UTC, datetime

from audit.verify_export import FIELDS, GENESIS, canonical, link_hash

__all__ = [
    "FIELDS",
    "GENESIS",
    "canonical",
    "link_hash",
    "entry_fields",
    "format_at",
    "row_hash",
    "legacy_checkpoint_signature",
]


def format_at(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_fields(row: dict) -> dict:
    """The canonical field values of an entry read from the database (a `.values()` row)."""
    return {**{name: row[name] for name in FIELDS}, "at": format_at(row["at"])}


def row_hash(prev_hash: str, row: dict) -> str:
    return link_hash(prev_hash, entry_fields(row))


def legacy_checkpoint_signature(
    *, key: str, entry_id: int, hash: str, created_at: datetime, kind: str = "head"
) -> str:
    """The HMAC-SHA256 of checkpoints signed before Ed25519 (number NULL), for verifying
    them when AUDIT_CHECKPOINT_KEY holds the key they were signed with."""
    prefix = "" if kind == "head" else f"{kind}:"
    message = f"{prefix}{entry_id}:{hash}:{format_at(created_at)}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
