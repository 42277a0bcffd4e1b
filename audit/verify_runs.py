"""Verification runs: requested from the Verify page (or by the daily schedule), run by a
django-q2 worker, recorded in our own `AuditVerifyRun` row and audited."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

import audit
from audit.models import AuditVerifyRun
from audit.services import SYSTEM_ACTOR
from audit.verification import audit_verify

logger = logging.getLogger(__name__)

VERIFY_PERM = "audit.verify_auditlog"
TASK = "audit.tasks.verify_run"


def _task_timeout() -> int:
    # Below django-q2's `retry`, so a long verification is never handed to a second worker.
    return max(10, settings.Q_CLUSTER.get("retry", 180) - 10)


def audit_verify_run_in_flight() -> AuditVerifyRun | None:
    """A run still queued or running and younger than the task timeout (one at a time)."""
    recent = timezone.now() - timedelta(seconds=settings.Q_CLUSTER.get("retry", 180))
    return (
        AuditVerifyRun.objects.filter(
            status__in=[AuditVerifyRun.QUEUED, AuditVerifyRun.RUNNING], requested_at__gte=recent
        )
        .order_by("-requested_at")
        .first()
    )


def audit_verify_run_request(*, actor: Any) -> tuple[AuditVerifyRun, bool]:
    """Queue a verification; (the run, False) when one is already under way."""
    if not actor.has_perm(VERIFY_PERM):
        raise PermissionDenied
    from django_q.tasks import async_task

    with transaction.atomic():
        running = audit_verify_run_in_flight()
        if running is not None:
            return running, False
        run = AuditVerifyRun.objects.create(
            requested_by=actor, requested_by_name=actor.get_username(), requested_at=timezone.now()
        )
        audit.record(action="audit.verify_requested", actor=actor, target=run)
        run_id, timeout = run.id, _task_timeout()
        transaction.on_commit(
            lambda: async_task(TASK, run_id, task_name=f"audit-verify-{run_id}", timeout=timeout)
        )
    return run, True


def audit_verify_run_create_system() -> AuditVerifyRun:
    """For the daily schedule: a run nobody asked for, executed at once by the caller."""
    return AuditVerifyRun.objects.create(
        requested_by_name=SYSTEM_ACTOR, requested_at=timezone.now()
    )


def _summary(result: dict) -> dict:
    keep = ("checked", "head_id", "checkpoints", "anchors", "anchor_store", "anchor_error")
    return {
        **{k: result[k] for k in keep},
        "problem": result["problems"][0] if result["problems"] else None,
        "unprotected_entries": result["window"].get("entries", 0),
    }


def audit_verify_run_execute(*, run_id: int) -> AuditVerifyRun:
    """Claim the run (queued -> running; a second delivery does nothing), verify, record."""
    claimed = AuditVerifyRun.objects.filter(id=run_id, status=AuditVerifyRun.QUEUED).update(
        status=AuditVerifyRun.RUNNING, started_at=timezone.now()
    )
    run = AuditVerifyRun.objects.get(id=run_id)
    if not claimed:
        return run
    try:
        result = audit_verify().as_dict()
    except Exception as exc:
        logger.exception("audit verification run %s could not run", run_id)
        result, status = {"error": f"{type(exc).__name__}: {exc}"[:500]}, AuditVerifyRun.FAILED
        action, data = "audit.verify_incomplete", {"error": result["error"]}
    else:
        if result["problems"]:
            status, action = AuditVerifyRun.BROKEN, "audit.verify_failed"
            logger.error("audit log verification found tampering: %s", result["problems"][0])
        elif not result["complete"]:
            status, action = AuditVerifyRun.FAILED, "audit.verify_incomplete"
        else:
            status, action = AuditVerifyRun.OK, "audit.verified"
        data = _summary(result)
    with transaction.atomic():
        run.status, run.result, run.finished_at = status, result, timezone.now()
        run.save(update_fields=["status", "result", "finished_at"])
        audit.record(
            action=action,
            actor=run.requested_by,
            actor_name=run.requested_by_name,
            target=run,
            data=data,
        )
    return run


def audit_verify_runs_recent(*, limit: int = 10) -> list[AuditVerifyRun]:
    """The newest runs, for the Verify page (an index range, whatever the history)."""
    return list(AuditVerifyRun.objects.order_by("-requested_at")[:limit])
