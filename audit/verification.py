"""`verify_audit`: walk the chain and report the first broken link."""

import hmac
from dataclasses import dataclass, field

from audit.chain import FIELDS, GENESIS, checkpoint_signature, row_hash
from audit.models import AuditCheckpoint, AuditEntry, AuditSeal


@dataclass(frozen=True)
class Problem:
    entry_id: int
    what: str
    expected: str = ""
    found: str = ""

    def __str__(self) -> str:
        detail = f" expected {self.expected} found {self.found}" if self.expected else ""
        return f"entry {self.entry_id}: {self.what}{detail}"

    def as_dict(self) -> dict:
        return {
            "entry_id": self.entry_id,
            "what": self.what,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass
class VerifyResult:
    checked: int = 0
    unsealed: int = 0
    head_id: int = 0
    head_hash: str = GENESIS
    checkpoints: int = 0
    problem: Problem | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _checkpoints(result: VerifyResult) -> tuple[dict[int, str], tuple[int, str]]:
    """(entry id -> hash of every head checkpoint past the archive cut, the chain's start).

    The start is (0, 64 zeros), or the newest signed archive checkpoint when the oldest
    entries were archived: the remaining chain must continue from its hash.
    """
    named: dict[int, str] = {}
    start = (0, GENESIS)
    for cp in AuditCheckpoint.objects.order_by("id").values(
        "id", "kind", "entry_id", "hash", "signature", "created_at"
    ):
        expected = checkpoint_signature(
            entry_id=cp["entry_id"],
            hash=cp["hash"],
            created_at=cp["created_at"],
            kind=cp["kind"],
        )
        if not hmac.compare_digest(expected, cp["signature"]):
            result.problem = Problem(cp["entry_id"], f"checkpoint #{cp['id']} signature is invalid")
            return {}, start
        if cp["kind"] == AuditCheckpoint.ARCHIVE:
            start = max(start, (cp["entry_id"], cp["hash"]))
        else:
            named[cp["entry_id"]] = cp["hash"]
        result.checkpoints += 1
    return {k: v for k, v in named.items() if k > start[0]}, start


def audit_verify(*, chunk_size: int = 5000) -> VerifyResult:
    """Recompute every link in id order; stop at the first problem."""
    result = VerifyResult()
    named, (archived_through, prev) = _checkpoints(result)
    if result.problem:
        return result
    result.head_id, result.head_hash = archived_through, prev
    rows = (
        AuditEntry.objects.filter(id__gt=archived_through)
        .order_by("id")
        .values(*FIELDS, "seal__prev_hash", "seal__hash")
        .iterator(chunk_size=chunk_size)
    )
    first_unsealed: int | None = None
    for row in rows:
        found = row["seal__hash"]
        if found is None:
            first_unsealed = first_unsealed or row["id"]
            result.unsealed += 1
            continue
        if first_unsealed is not None:
            result.problem = Problem(first_unsealed, f"not sealed, but later entry {row['id']} is")
            return result
        if row["seal__prev_hash"] != prev:
            # The entry before this one was removed, or its seal rewritten.
            result.problem = Problem(row["id"], "prev_hash", prev, row["seal__prev_hash"])
            return result
        expected = row_hash(prev, row)
        if expected != found:
            result.problem = Problem(row["id"], "hash", expected, found)
            return result
        signed = named.pop(row["id"], found)
        if signed != found:
            result.problem = Problem(row["id"], "differs from its signed checkpoint", signed, found)
            return result
        prev = found
        result.checked += 1
        result.head_id, result.head_hash = row["id"], found
    if named:
        # A signed checkpoint names an entry the chain no longer has: the tail was cut.
        missing = min(named)
        result.problem = Problem(
            missing,
            f"missing: a signed checkpoint names it, but the chain ends at entry {result.head_id}",
            named[missing],
            result.head_hash,
        )
        return result
    orphan = AuditSeal.objects.filter(entry_id__gt=result.head_id).order_by("entry_id").first()
    if orphan is not None and not AuditEntry.objects.filter(id=orphan.entry_id).exists():
        result.problem = Problem(orphan.entry_id, "missing: sealed, but the entry is gone")
    return result
