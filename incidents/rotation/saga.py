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
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from incidents.models import RotationRun, RotationStep, RotationTarget
from incidents.rotation import steps as step_impl
from incidents.rotation.keys import key_fingerprint
from incidents.rotation.steps import StepFailed
from integrations.errors import IntegrationError

logger = logging.getLogger("incidents.rotation")

STEPS: tuple[tuple[int, str, Callable], ...] = (
    (1, "notify_owner", step_impl.notify_owner),
    (2, "fetch_replacement", step_impl.fetch_replacement),
    (3, "update_vercel", step_impl.update_vercel),
    (4, "update_function_secrets", step_impl.update_function_secrets),
    (5, "verify_new_key", step_impl.verify_new_key),
    (6, "revoke_leaked_key", step_impl.revoke_leaked_key),
    (7, "invalidate_sessions", step_impl.invalidate_sessions),
    (8, "confirm_old_key_refused", step_impl.confirm_old_key_refused),
    (9, "post_summary", step_impl.post_summary),
)
STEP_KEYS = {number: key for number, key, _ in STEPS}
ROLLBACK_STEPS = (3, 4, 5)  # after a change, before revocation
RESUMABLE = (RotationRun.Status.PREPARED, RotationRun.Status.FAILED, RotationRun.Status.ROLLED_BACK)


class RotationBusy(ValidationError):
    pass


def _claim(run_id: int) -> RotationRun:
    """Take the run for this worker; a second worker (or a redelivered task) is refused."""
    with transaction.atomic():
        run = RotationRun.objects.select_for_update().select_related("project").get(pk=run_id)
        now = timezone.now()
        stale = run.heartbeat_at is None or run.heartbeat_at < now - timedelta(
            seconds=settings.ROTATION_STALE_SECONDS
        )
        if run.status == RotationRun.Status.RUNNING and not stale:
            raise RotationBusy(f"Rotation #{run.pk} is already running.")
        if run.status not in (*RESUMABLE, RotationRun.Status.RUNNING):
            raise ValidationError(f"Rotation #{run.pk} is {run.status}; nothing to resume.")
        run.steps.exclude(status=RotationStep.Status.DONE).update(
            status=RotationStep.Status.PENDING
        )
        run.status = RotationRun.Status.RUNNING
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.error, run.failed_step = "", None
        run.save(update_fields=["status", "started_at", "heartbeat_at", "error", "failed_step"])
    return run


class Saga:
    """One execution of a run. `log` receives operator-facing lines (masked again here)."""

    def __init__(
        self, run: RotationRun, *, actor: Any, log: Callable[[str], None], incident_step: Any = None
    ):
        self.run = run
        self.project = run.project
        self.actor = actor
        self._log = log
        self.incident_step = incident_step
        self._new_key: str | None = None

    def log(self, message: str) -> None:
        line = mask_text(message)
        logger.info("rotation #%s: %s", self.run.pk, line)
        self._log(line)

    # --- key access (memory only) ---------------------------------------------------------

    def new_key(self) -> str:
        if self._new_key is None:
            value = step_impl.secrets().get_current(self.project.service_role_secret_id)
            if key_fingerprint(value) != self.run.new_fingerprint:
                raise StepFailed(
                    "Secrets Manager's AWSCURRENT changed since step 2 (now "
                    f"{key_fingerprint(value)}, expected {self.run.new_fingerprint}); "
                    "cancel this rotation and start a new one."
                )
            self._new_key = value
        return self._new_key

    def leaked_key_from_secrets_manager(self) -> str | None:
        """AWSPREVIOUS, when it is the leaked key (used to restore, and to prove it refused)."""
        try:
            value = step_impl.secrets().get_previous(self.project.service_role_secret_id)
        except IntegrationError as exc:
            self.log(f"AWSPREVIOUS not readable: {exc}")
            return None
        if key_fingerprint(value) != self.run.leaked_fingerprint:
            return None
        return value

    # --- targets ----------------------------------------------------------------------------

    def target(self, kind: str, name: str, **fields: Any) -> RotationTarget:
        target, _ = RotationTarget.objects.update_or_create(
            run=self.run,
            kind=kind,
            name=name,
            defaults={**fields, "updated_at": timezone.now()},
        )
        return target

    def targets_summary(self) -> list[str]:
        return [
            f"{t.get_kind_display()} {t.name}: {t.fingerprint or '—'} ({t.state})"
            for t in self.run.targets.all()
        ]

    # --- records ------------------------------------------------------------------------------

    def record(self, step: RotationStep, *, message: str, kind: str = "rotation_step") -> None:
        from incidents.services.timeline import timeline_append

        timeline_append(
            incident=self.run.incident,
            kind=kind,
            message=message,
            actor=self.actor,
            step=self.incident_step,
            data={"rotation_id": self.run.pk, "step": step.number, "status": step.status},
        )
        audit.record(
            action=f"rotation.step_{step.status}",
            actor=self.actor,
            target=self.run,
            incident_id=self.run.incident_id,
            data={
                "rotation_id": self.run.pk,
                "step": step.number,
                "key": step.key,
                "detail": step.detail,
                "data": step.data,
            },
        )


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
            saga.record(step, message=f"Rotation #{run.pk} step {number} ({key}) done: {detail}")
        saga.log(f"{number}. {key}: {detail}")
    with transaction.atomic():
        run.status, run.finished_at = RotationRun.Status.SUCCEEDED, timezone.now()
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
    saga.log(f"rotation #{run.pk} succeeded")
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
            step, message=f"Rotation #{run.pk} step {step.number} ({step.key}) failed: {error}"
        )
    status = RotationRun.Status.FAILED
    if step.number in ROLLBACK_STEPS:
        _rollback(saga)
        status = RotationRun.Status.ROLLED_BACK
    run.refresh_from_db()
    with transaction.atomic():
        run.status, run.failed_step, run.error = status, step.number, error
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failed_step", "error", "finished_at"])
        where = "; ".join(saga.targets_summary()) or "no target was changed"
        what = (
            "previous values restored, nothing revoked"
            if status == "rolled_back"
            else "stopped; resume continues from this step"
        )
        from incidents.services.timeline import timeline_append

        timeline_append(
            incident=run.incident,
            kind="rotation_stopped",
            actor=saga.actor,
            step=saga.incident_step,
            message=f"Rotation #{run.pk} {status} at step {step.number} ({step.key}): {what}. "
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
            state = step_impl.restore_target(saga, target, old)
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
