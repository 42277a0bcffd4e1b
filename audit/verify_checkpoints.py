"""The checkpoint half of `verify_audit`: the numbered sequence, the anchors, the base.

Numbered checkpoints are streamed in number order (constant memory however many years
of them there are) and each is checked against the one before it and its signature
(the rules live in audit/verify_export.py, shared with the offline verifier). The
anchor store is listed in the same order and merged in: every anchored checkpoint must
be in the database with the same digest. A broken link, an unknown key, a bad
signature, a checkpoint the database lost or rewrote: the entries affected are those
after the last checkpoint still intact.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

from audit.anchors import Anchor, AnchorStoreError, anchor_store
from audit.chain import GENESIS, legacy_checkpoint_signature
from audit.checkpoints import checkpoint_record
from audit.models import AuditCheckpoint, AuditEntry
from audit.signing import verify_keys
from audit.verify_export import (
    checkpoint_digest,
    checkpoint_link_problem,
    checkpoint_signature_problem,
)


@dataclass(frozen=True)
class Problem:
    entry_id: int
    what: str
    expected: str = ""
    found: str = ""

    def __str__(self) -> str:
        detail = f" expected {self.expected}" if self.expected else ""
        detail += f" found {self.found}" if self.found else ""
        return f"entry {self.entry_id}: {self.what}{detail}"

    def as_dict(self) -> dict:
        return {
            "entry_id": self.entry_id,
            "what": self.what,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass
class CheckpointReport:
    numbered: int = 0  # verified, in sequence
    trusted_below: int | None = None  # checkpoints from this number on are not trusted
    legacy_verified: int = 0
    legacy_unverified: int = 0
    key_ids: set[str] = field(default_factory=set)
    store: str = ""  # the anchor store, "" when none is configured
    store_error: str = ""
    anchors: int = 0
    last_anchor: dict | None = None  # the newest anchor that matches the database
    problems: list[Problem] = field(default_factory=list)


def _numbered(**filters) -> Iterator[dict]:
    rows = AuditCheckpoint.objects.filter(number__isnull=False, **filters).order_by("number")
    for checkpoint in rows.iterator(chunk_size=2000):
        yield checkpoint_record(checkpoint)


def _first_entry_after(entry_id: int, through: int | None = None) -> int:
    """The first entry a problem after `entry_id` touches (the next one still present, or
    entry_id + 1 when those after it are gone)."""
    found = AuditEntry.objects.filter(id__gt=entry_id).order_by("id").values_list("id", flat=True)
    first = found.first()
    if first is None or (through is not None and first > through):
        return entry_id + 1
    return first


def _anchors(report: CheckpointReport) -> Iterator[Anchor]:
    try:
        store = anchor_store()
        if store is None:
            return
        report.store = store.description
        yield from store.list()  # in number order (zero-padded names)
    except AnchorStoreError as exc:
        report.store_error = str(exc)


def _anchored_entry(anchor: Anchor) -> int | None:
    import json

    try:
        store = anchor_store()
        return int(json.loads(store.get(anchor))["entry_id"]) if store else None
    except (AnchorStoreError, ValueError, KeyError, TypeError):
        return None


def _anchor_problem(anchor: Anchor, previous: dict | None, what: str) -> Problem:
    since = previous["entry_id"] if previous else 0
    through = _anchored_entry(anchor)
    span = f"through entry {through}" if through is not None else "onwards"
    return Problem(
        _first_entry_after(since, through),
        f"checkpoint #{anchor.number} in the anchor store ({anchor.key}, written "
        f"{anchor.written_at:%Y-%m-%d %H:%M:%S} UTC) {what}: the entries after entry "
        f"{since} {span} were removed or rewritten",
    )


def check_checkpoints() -> CheckpointReport:
    """Sequence, signatures and anchors of every numbered checkpoint; legacy ones counted."""
    report = CheckpointReport()
    keys = verify_keys()
    anchors = _anchors(report)
    pending = next(anchors, None)
    previous: dict | None = None
    for record in _numbered():
        problem = checkpoint_link_problem(record, previous) or checkpoint_signature_problem(
            record, keys
        )
        if problem:
            since = previous["entry_id"] if previous else 0
            hint = " (is its public key in AUDIT_VERIFY_KEYS?)" if "unknown key" in problem else ""
            report.problems.append(Problem(_first_entry_after(since), problem + hint))
            report.trusted_below = record["number"]
            return report  # what follows a broken link cannot be trusted
        digest = checkpoint_digest(record)
        while pending is not None and pending.number <= record["number"]:
            if pending.number == record["number"] and pending.digest != digest:
                report.problems.append(
                    _anchor_problem(pending, previous, "differs from the database's")
                )
                report.trusted_below = record["number"]
                return report
            report.anchors += 1
            report.last_anchor = {
                "number": record["number"],
                "entry_id": record["entry_id"],
                "created_at": record["created_at"],
                "written_at": pending.written_at.isoformat(),
            }
            pending = next(anchors, None)
        report.numbered += 1
        report.key_ids.add(record["key_id"])
        previous = record
    if pending is not None:  # anchored, but the database's sequence ends before it
        report.problems.append(_anchor_problem(pending, previous, "is missing from the database"))
    return report


@dataclass(frozen=True)
class ChainStart:
    entry_id: int
    hash: str
    count: int


def legacy_checkpoints(report: CheckpointReport) -> tuple[dict[int, str], ChainStart | None]:
    """Checkpoints signed before numbering (HMAC): verified with AUDIT_CHECKPOINT_KEY when
    it is set, else counted as unverified and skipped. Returns (entry id -> hash of the
    verified head ones, the newest archive cut among them that may start the chain)."""
    key = settings.AUDIT_CHECKPOINT_KEY
    first_numbered = AuditCheckpoint.objects.filter(number__isnull=False).order_by("number").first()
    named: dict[int, str] = {}
    start: ChainStart | None = None
    for cp in AuditCheckpoint.objects.filter(number__isnull=True).order_by("id"):
        if key:
            expected = legacy_checkpoint_signature(
                key=key, entry_id=cp.entry_id, hash=cp.hash, created_at=cp.created_at, kind=cp.kind
            )
            if expected != cp.signature:
                report.problems.append(
                    Problem(cp.entry_id, f"legacy checkpoint {cp.id} signature is invalid")
                )
                continue
            report.legacy_verified += 1
        else:
            report.legacy_unverified += 1
        if cp.kind == AuditCheckpoint.HEAD:
            named[cp.entry_id] = cp.hash
        elif first_numbered is None or (
            cp.id < first_numbered.id and cp.entry_id <= first_numbered.entry_id
        ):
            # Only a cut made before numbering began; numbered checkpoints count from it.
            if start is None or cp.entry_id > start.entry_id:
                start = ChainStart(cp.entry_id, cp.hash, 0)
    return named, start


def chain_start(report: CheckpointReport, legacy_start: ChainStart | None) -> ChainStart:
    """Where the chain in the database begins: the newest trusted numbered archive cut, a
    cut from before numbering, or 64 zeros."""
    cuts = AuditCheckpoint.objects.filter(kind=AuditCheckpoint.ARCHIVE, number__isnull=False)
    if report.trusted_below is not None:
        cuts = cuts.filter(number__lt=report.trusted_below)
    cut = cuts.order_by("-number").first()
    if cut is not None:
        return ChainStart(cut.entry_id, cut.hash, cut.count)
    return legacy_start or ChainStart(0, GENESIS, 0)


def named_checkpoints(report: CheckpointReport, start: ChainStart) -> Iterator[dict]:
    """Trusted numbered checkpoints past the chain's start, in entry order."""
    filters = {"entry_id__gt": start.entry_id}
    if report.trusted_below is not None:
        filters["number__lt"] = report.trusted_below
    return _numbered(**filters)
