"""django-q2 entry points (schedules in migration 0004). Thin: they call one service."""

import logging

from audit.anchors import audit_anchor_pending
from audit.checkpoints import audit_checkpoint_create
from audit.sealing import audit_seal
from audit.signing import SigningKeyError
from audit.verify_runs import (
    audit_verify_run_create_system,
    audit_verify_run_execute,
)

logger = logging.getLogger(__name__)


def seal() -> str:
    """Every minute: seal what is safe to seal, sign the new head, anchor what is not yet.

    Each step stands alone: a missing key or an unreachable anchor store is logged and
    retried next minute, and never stops the sealing."""
    result = audit_seal()
    note = f"sealed {result.sealed}, head {result.head_id}" + (
        " (waiting)" if result.waiting else ""
    )
    try:
        checkpoint = audit_checkpoint_create()
    except SigningKeyError as exc:
        logger.error("audit checkpoint not signed: %s", exc)
        return f"{note}; no checkpoint: {exc}"
    if checkpoint is not None:
        note += f"; checkpoint #{checkpoint.number}"
    anchored = audit_anchor_pending()
    if anchored.written:
        note += f"; {anchored.written} anchored"
    if anchored.error:
        note += f"; anchoring failed (retried next run): {anchored.error}"
    return note


def verify() -> str:
    """Daily: a verification run of its own, shown on the Verify page like any other."""
    run = audit_verify_run_execute(run_id=audit_verify_run_create_system().id)
    problems = run.result.get("problems") or []
    if problems:
        return f"audit log BROKEN at entry {problems[0]['entry_id']}: {problems[0]['what']}"
    return f"audit log {run.get_status_display()}: {run.result.get('checked', 0)} entries"


def verify_run(run_id: int) -> str:
    """The Verify page's button."""
    return f"verification #{run_id}: {audit_verify_run_execute(run_id=run_id).status}"
