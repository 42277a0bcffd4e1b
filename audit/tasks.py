"""django-q2 entry points (schedules in migration 0004). Thin: they call one service."""

import logging

import audit
from audit.sealing import audit_checkpoint_create, audit_seal
from audit.verification import audit_verify

logger = logging.getLogger(__name__)


def seal() -> str:
    """Every minute: seal what is safe to seal, then sign the new head."""
    result = audit_seal()
    if result.sealed:
        audit_checkpoint_create()
    return f"sealed {result.sealed}, head {result.head_id}" + (
        " (waiting)" if result.waiting else ""
    )


def verify() -> str:
    """Daily: walk the chain; a broken chain is logged as an error and audited."""
    result = audit_verify()
    if result.ok:
        return f"audit chain OK: {result.checked} entries, head {result.head_id}"
    logger.error("audit chain BROKEN at %s", result.problem)
    audit.record(action="audit.verify_failed", data={"problem": result.problem.as_dict()})
    return f"audit chain BROKEN at {result.problem}"
