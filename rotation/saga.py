"""The rotation saga: nine recorded steps, each idempotent and verified, resumable.

Outcome by failing step (docs/runbooks.md, "Supabase Credential Leak"):
- 1–2 (notify, fetch): nothing changed anywhere; the run is `failed`, resume retries.
- 3–5 (Vercel, Edge Function secrets, verify new key): nothing is revoked; every target
  the run touched gets its previous value back (the leaked key, read from Secrets
  Manager's AWSPREVIOUS, or deleted when it did not exist); the run is `rolled_back`
  and resume starts again at step 3.
- 6–9 (revoke, sessions, confirm, summary): the run stops `failed`; the targets table
  says which target holds which key (by fingerprint); resume continues at that step.

Key values exist only in this process's memory while a step needs them; each step that
needs the new key reads it again and checks its fingerprint against the one step 2 saw.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from incidents.engine.timeline import timeline_append
from integrations.errors import IntegrationError
from rotation import steps, steps_targets
from rotation.checklist import rotation_checklist_complete
from rotation.context import Saga, StepFailed
from rotation.models import ROTATION_CLAIM, RotationRun, RotationStep, RotationTarget

logger = logging.getLogger("rotation")

_FUNCS: dict[str, Callable[[Saga, RotationStep], tuple[str, dict]]] = {
    "notify_owner": steps.notify_owner,
    "fetch_replacement": steps.fetch_replacement,
    "update_vercel": steps_targets.update_vercel,
    "update_function_secrets": steps_targets.update_function_secrets,
    "verify_new_key": steps.verify_new_key,
    "revoke_leaked_key": steps.revoke_leaked_key,
    "invalidate_sessions": steps.invalidate_sessions,
    "confirm_old_key_refused": steps.confirm_old_key_refused,
    "post_summary": steps.post_summary,
}
STEPS = tuple((number, key, _FUNCS[key]) for number, key in enumerate(RotationStep.KEYS, 1))
ROLLBACK_STEPS = (3, 4, 5)  # after a change, before revocation
_S = RotationRun.Status


def _claim(run_id: int) -> RotationRun:
    """Take the run for this worker; a second worker (or a redelivered task) is refused."""
    with transaction.atomic():
        queryset = RotationRun.objects.select_related("project")
        run = ROTATION_CLAIM.lock(queryset, run_id)  # RunBusy / RunNotClaimable
        run.steps.exclude(status=RotationStep.Status.DONE).update(
            status=RotationStep.Status.PENDING
        )
        now = timezone.now()
        run.status = _S.RUNNING
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.error, run.failed_step = "", None
        run.save(update_fields=["status", "started_at", "heartbeat_at", "error", "failed_step"])
    return run


def rotation_execute(
    *,
    run_id: int,
    actor: Any,
    log: Callable[[str], None] = lambda _line: None,
    incident_step: Any = None,
) -> RotationRun:
    """Run (or resume) the saga from its first step that is not done."""
    run = _claim(run_id)
    saga = Saga(run, actor=actor, log=log, incident_step=incident_step)
    saga.log(
        f"rotation #{run.pk} of the {run.project.environment} service-role key "
        f"(leaked {run.leaked_fingerprint}) starts"
    )
    for number, key, func in STEPS:
        step = run.steps.get(number=number)
        if step.status == RotationStep.Status.DONE:
            saga.log(f"{number}. {key}: already done")
            continue
        now = timezone.now()
        RotationRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
        step.status, step.started_at, step.finished_at = RotationStep.Status.RUNNING, now, None
        step.attempts += 1
        step.save(update_fields=["status", "started_at", "finished_at", "attempts"])
        try:
            detail, data = func(saga, step)
        except (StepFailed, IntegrationError) as exc:
            return _fail(saga, step, str(exc))
        except Exception as exc:  # a bug: stop like a failure so nothing goes further
            logger.exception("rotation #%s step %s crashed", run.pk, number)
            return _fail(saga, step, f"unexpected error: {type(exc).__name__}")
        with transaction.atomic():
            step.status, step.finished_at = RotationStep.Status.DONE, timezone.now()
            step.detail, step.data = mask_text(detail)[:4000], data
            step.save(update_fields=["status", "finished_at", "detail", "data"])
            saga.record(
                step, message=f"Rotation #{run.pk} step {number} ({step.name}) done: {detail}"
            )
        saga.log(f"{number}. {key}: {detail}")
    with transaction.atomic():
        run.status, run.finished_at = _S.SUCCEEDED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
        audit.record(
            action="rotation.succeeded",
            actor=actor,
            target=run,
            incident_id=run.incident_id,
            data={
                "rotation_id": run.pk,
                "project": run.project.environment,
                "leaked_key_fingerprint": run.leaked_fingerprint,
                "new_key_fingerprint": run.new_fingerprint,
                "rotated_at": run.rotated_at.isoformat() if run.rotated_at else None,
            },
        )
    ticked = rotation_checklist_complete(run, actor=actor)
    saga.log(f"rotation #{run.pk} succeeded; runbook steps done: {', '.join(ticked) or 'none'}")
    return run


def _fail(saga: Saga, step: RotationStep, error: str) -> RotationRun:
    run = saga.run
    error = mask_text(error)[:500]
    saga.log(f"{step.number}. {step.key} FAILED: {error}")
    with transaction.atomic():
        step.status, step.finished_at = RotationStep.Status.FAILED, timezone.now()
        step.detail = error
        step.save(update_fields=["status", "finished_at", "detail"])
        saga.record(
            step, message=f"Rotation #{run.pk} step {step.number} ({step.name}) failed: {error}"
        )
    status = _S.FAILED
    if step.number in ROLLBACK_STEPS:
        _rollback(saga)
        status = _S.ROLLED_BACK
    run.refresh_from_db()
    with transaction.atomic():
        run.status, run.failed_step, run.error = status, step.number, error
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failed_step", "error", "finished_at"])
        where = "; ".join(saga.targets_summary()) or "no target was changed"
        what = (
            "previous values restored, nothing revoked"
            if status == _S.ROLLED_BACK
            else "stopped; resume continues from this step"
        )
        timeline_append(
            incident=run.incident,
            kind="rotation_stopped",
            actor=saga.actor,
            step=saga.incident_step,
            message=f"Rotation #{run.pk} {status} at step {step.number} ({step.name}): {what}. "
            f"Targets: {where}.",
            data={
                "rotation_id": run.pk,
                "failed_step": step.number,
                "targets": saga.targets_summary(),
            },
        )
        audit.record(
            action=f"rotation.{status}",
            actor=saga.actor,
            target=run,
            incident_id=run.incident_id,
            data={
                "rotation_id": run.pk,
                "failed_step": step.number,
                "error": error,
                "targets": saga.targets_summary(),
            },
        )
    for line in saga.targets_summary():
        saga.log(f"  {line}")
    return run


def _rollback(saga: Saga) -> None:
    """Give every target this run touched its previous value back; revoke nothing."""
    saga.log("rolling back: restoring the previous values (nothing was revoked)")
    touched = saga.run.targets.filter(
        kind__in=[RotationTarget.Kind.VERCEL_ENV, RotationTarget.Kind.FUNCTION_SECRET],
        state__in=["new", "unknown"],
    )
    old = saga.leaked_key_from_secrets_manager() if touched.exists() else None
    for target in touched:
        try:
            state = steps_targets.restore_target(saga, target, old)
        except IntegrationError as exc:
            state = "restore_failed"
            saga.log(f"restoring {target.name} failed: {exc}")
        fingerprint = (
            saga.run.leaked_fingerprint
            if state == "restored"
            else ("" if state == "removed" else target.fingerprint)
        )
        saga.target(target.kind, target.name, state=state, fingerprint=fingerprint)
        saga.log(f"  {target.get_kind_display()} {target.name}: {state}")
    saga.run.steps.filter(number__in=ROLLBACK_STEPS).exclude(
        status=RotationStep.Status.PENDING
    ).update(status=RotationStep.Status.ROLLED_BACK)
