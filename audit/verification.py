"""`verify_audit`: the chain, the checkpoints, the anchors; every problem at its first entry.

1. Checkpoints (audit/verify_checkpoints.py): numbered 1, 2, 3... with no gap, each
   linked to the one before and correctly signed; every checkpoint in the anchor
   store present and identical in the database.
2. The chain, in id order from its start (64 zeros, or the newest archive cut): each
   seal links to the one before and hashes its entry; every trusted checkpoint's entry
   carries the hash and count it signed; no checkpoint names an entry past the end.
3. The window not yet protected: the entries newer than the last anchored checkpoint.

Each part stops at its first problem; the report lists them by entry. Exit status of the
command: 0 verified, 1 tampering found, 2 could not verify everything (anchor store
unreadable).
"""

from dataclasses import dataclass, field

from audit.chain import FIELDS, GENESIS, row_hash
from audit.models import AuditEntry, AuditSeal
from audit.verify_checkpoints import (
    ChainStart,
    CheckpointReport,
    Problem,
    chain_start,
    check_checkpoints,
    legacy_checkpoints,
    named_checkpoints,
)

__all__ = ["Problem", "VerifyResult", "audit_verify"]


@dataclass
class VerifyResult:
    checked: int = 0
    unsealed: int = 0
    start_id: int = 0
    head_id: int = 0
    head_hash: str = GENESIS
    checkpoints: CheckpointReport = field(default_factory=CheckpointReport)
    window: dict = field(default_factory=dict)  # entries newer than the last anchor
    problems: list[Problem] = field(default_factory=list)

    @property
    def problem(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.entry_id) if self.problems else None

    @property
    def complete(self) -> bool:
        return not self.checkpoints.store_error

    @property
    def ok(self) -> bool:
        return not self.problems and self.complete

    def as_dict(self) -> dict:
        cps = self.checkpoints
        return {
            "ok": self.ok,
            "complete": self.complete,
            "checked": self.checked,
            "unsealed": self.unsealed,
            "start_id": self.start_id,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "checkpoints": cps.numbered,
            "key_ids": sorted(cps.key_ids),
            "legacy_verified": cps.legacy_verified,
            "legacy_unverified": cps.legacy_unverified,
            "anchor_store": cps.store,
            "anchor_error": cps.store_error,
            "anchors": cps.anchors,
            "last_anchor": cps.last_anchor,
            "window": self.window,
            "problems": [p.as_dict() for p in sorted(self.problems, key=lambda p: p.entry_id)],
        }


class _Walk:
    """One pass over the entries in id order, checking links, hashes and checkpoints."""

    def __init__(self, result: VerifyResult, start: ChainStart, legacy: dict[int, str]):
        self.result, self.legacy = result, legacy
        self.prev, self.count = start.hash, start.count
        self.named = named_checkpoints(result.checkpoints, start)
        self.next_named = next(self.named, None)
        anchor = result.checkpoints.last_anchor
        self.protected_through = anchor["entry_id"] if anchor else 0
        self.window = {"after_entry": self.protected_through, "first": None, "last": None}
        self.window.update(entries=0, unsealed=0)
        result.start_id = result.head_id = start.entry_id
        result.head_hash = start.hash

    def _note_window(self, entry_id: int, sealed: bool) -> None:
        if entry_id > self.protected_through:
            self.window["first"] = self.window["first"] or entry_id
            self.window["last"] = entry_id
            self.window["entries"] += 1
            self.window["unsealed"] += 0 if sealed else 1

    def _checkpoint_problem(self, row: dict, found: str) -> Problem | None:
        signed = self.legacy.get(row["id"], found)
        if signed != found:
            return Problem(row["id"], "differs from its signed checkpoint", signed, found)
        while self.next_named is not None and self.next_named["entry_id"] <= row["id"]:
            named = self.next_named
            self.next_named = next(self.named, None)
            if named["entry_id"] < row["id"]:  # removed, and the chain re-linked without it
                what = f"missing: signed checkpoint #{named['number']} names it"
                return Problem(named["entry_id"], what, named["hash"], "")
            if named["hash"] != found:
                what = f"differs from signed checkpoint #{named['number']}"
                return Problem(row["id"], what, named["hash"], found)
            if named["count"] != self.count:
                what = f"entry count differs from signed checkpoint #{named['number']}"
                return Problem(row["id"], what, str(named["count"]), str(self.count))
        return None

    def run(self, chunk_size: int) -> Problem | None:
        result = self.result
        rows = (
            AuditEntry.objects.filter(id__gt=result.start_id)
            .order_by("id")
            .values(*FIELDS, "seal__prev_hash", "seal__hash")
            .iterator(chunk_size=chunk_size)
        )
        first_unsealed: int | None = None
        problem: Problem | None = None
        for row in rows:
            found = row["seal__hash"]
            self._note_window(row["id"], found is not None)
            if problem:
                continue  # keep measuring the window
            if found is None:
                first_unsealed = first_unsealed or row["id"]
                result.unsealed += 1
                continue
            if first_unsealed is not None:
                problem = Problem(first_unsealed, f"not sealed, but later entry {row['id']} is")
            elif row["seal__prev_hash"] != self.prev:
                # The entry before this one was removed, or its seal rewritten.
                problem = Problem(row["id"], "prev_hash", self.prev, row["seal__prev_hash"])
            elif (expected := row_hash(self.prev, row)) != found:
                problem = Problem(row["id"], "hash", expected, found)
            else:
                self.count += 1
                problem = self._checkpoint_problem(row, found)
            if problem is None:
                self.prev = found
                result.checked += 1
                result.head_id, result.head_hash = row["id"], found
        return problem or self._tail_problem()

    def _tail_problem(self) -> Problem | None:
        result = self.result
        beyond = [self.next_named] if self.next_named else []
        beyond += [{"entry_id": e, "hash": h} for e, h in self.legacy.items() if e > result.head_id]
        if beyond:
            # A signed checkpoint names an entry the chain no longer has: the tail was cut.
            missing = min(beyond, key=lambda n: n["entry_id"])
            return Problem(
                missing["entry_id"],
                f"missing: a signed checkpoint names it, but the chain ends at entry "
                f"{result.head_id}",
                missing["hash"],
                result.head_hash,
            )
        orphan = AuditSeal.objects.filter(entry_id__gt=result.head_id).order_by("entry_id").first()
        if orphan is not None and not AuditEntry.objects.filter(id=orphan.entry_id).exists():
            return Problem(orphan.entry_id, "missing: sealed, but the entry is gone")
        return None


def audit_verify(*, chunk_size: int = 5000) -> VerifyResult:
    result = VerifyResult(checkpoints=check_checkpoints())
    legacy_named, legacy_start = legacy_checkpoints(result.checkpoints)
    start = chain_start(result.checkpoints, legacy_start)
    walk = _Walk(result, start, legacy_named)
    problem = walk.run(chunk_size)
    result.window = walk.window
    result.problems = [*result.checkpoints.problems, *([problem] if problem else [])]
    return result
