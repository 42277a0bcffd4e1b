"""Writes for key rotations. The leaked key is seen once, here, and only its fingerprint
is kept; approvals go through the incidents engine (the two-person rule), by way of the
rotation step's run request (incidents.services.step_run_request)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from incidents.engine.timeline import actor_label, timeline_append
from incidents.models import Approval, Incident, IncidentStep, StepRun
from incidents.services import step_run_request
from rotation.keys import KEY_ID, LEGACY_NAME, key_fingerprint, key_kind
from rotation.models import (
    ROTATION_CLAIM,
    RotationRun,
    RotationStep,
    RotationTarget,
    SupabaseProject,
)

ROTATE_ACTION = "supabase_key_rotate"
REQUEST_PERMISSION = "incidents.request_risky_step"
RUNBOOK_KEY = "credential_leak"


def rotation_step_of(incident: Incident) -> IncidentStep:
    step = incident.steps.filter(action_key=ROTATE_ACTION).first()
    if step is None:
        raise ValidationError("This incident's runbook has no key-rotation step.")
    return step


def rotation_params(run: RotationRun) -> dict:
    """What the approval is bound to: this run, its project and the leaked key's fingerprint."""
    return {
        "rotation_id": run.pk,
        "project": run.project.environment,
        "leaked_key_fingerprint": run.leaked_fingerprint,
    }


@transaction.atomic
def rotation_prepare(
    *,
    incident: Incident,
    project: SupabaseProject,
    leaked_key: str,
    leaked_key_id: str = "",
    actor: Any,
) -> RotationRun:
    """Record a rotation of `project`'s service-role key. `leaked_key` is fingerprinted and
    dropped: it never reaches the database, a task, the audit log or the timeline."""
    if not actor.has_perm(REQUEST_PERMISSION):
        raise PermissionDenied(f"You need the {REQUEST_PERMISSION} permission.")
    if incident.runbook_key != RUNBOOK_KEY:
        raise ValidationError("Key rotations belong to Credential Leak incidents.")
    if not incident.is_open:
        raise ValidationError("The incident is not open.")
    rotation_step_of(incident)
    leaked_key = (leaked_key or "").strip()
    kind = key_kind(leaked_key)
    if not kind:
        raise ValidationError(
            "That does not look like a service-role key (sb_secret_… or a legacy JWT)."
        )
    leaked_key_id = (leaked_key_id or "").strip()
    if kind == RotationRun.KeyKind.SECRET and not KEY_ID.match(leaked_key_id):
        raise ValidationError(
            "Give the leaked key's id (Supabase dashboard → API keys) so it can be revoked."
        )
    if kind == RotationRun.KeyKind.LEGACY:
        leaked_key_id = ""  # legacy keys are disabled as a whole, not by id
    fingerprint = key_fingerprint(leaked_key)
    del leaked_key
    existing = (
        RotationRun.objects.select_for_update()
        .filter(project=project, status__in=RotationRun.UNFINISHED)
        .first()
    )
    if existing is not None:
        if existing.incident_id == incident.pk and existing.leaked_fingerprint == fingerprint:
            return existing
        raise ValidationError(
            f"Rotation #{existing.pk} of {project.environment} is {existing.status}: resume or "
            "cancel it first."
        )
    try:
        with transaction.atomic():
            run = RotationRun.objects.create(
                incident=incident,
                project=project,
                leaked_fingerprint=fingerprint,
                leaked_kind=kind,
                leaked_key_id=leaked_key_id,
                prepared_by=actor,
                prepared_by_name=actor_label(actor),
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise ValidationError("Another rotation of this project was just started.") from None
    RotationStep.objects.bulk_create(
        [RotationStep(run=run, number=n, key=key) for n, key in enumerate(RotationStep.KEYS, 1)]
    )
    RotationTarget.objects.create(  # the leaked key itself: active until step 6
        run=run,
        kind=RotationTarget.Kind.SUPABASE_KEY,
        name=leaked_key_id or LEGACY_NAME,
        fingerprint=fingerprint,
        state="active",
        updated_at=timezone.now(),
    )
    timeline_append(
        incident=incident,
        kind="rotation_prepared",
        actor=actor,
        message=f"Rotation #{run.pk} of the {project.environment} service-role key prepared "
        f"(leaked key {fingerprint}, {run.get_leaked_kind_display()}).",
        data={"rotation_id": run.pk},
    )
    audit.record(
        action="rotation.prepared",
        actor=actor,
        target=run,
        incident_id=incident.pk,
        data={
            "rotation_id": run.pk,
            "project": project.environment,
            "project_ref": project.project_ref,
            "leaked_key_fingerprint": fingerprint,
            "leaked_kind": kind,
            "leaked_key_id": leaked_key_id,
        },
    )
    return run


def rotation_request(
    *, run: RotationRun, actor: Any, dry_run: bool = False, confirm_rerun: bool = False
) -> StepRun | Approval:
    """Start or resume the saga. A real run needs a second admin's approval of exactly this
    run, project and leaked-key fingerprint (incidents.engine.approvals); a dry run does not.
    Returns the pending approval, or the queued dry run."""
    run = RotationRun.objects.select_related("project", "incident").get(pk=run.pk)
    if not ROTATION_CLAIM.can_claim(run):
        raise ValidationError(f"Rotation #{run.pk} is {run.status}.")
    return step_run_request(
        step=rotation_step_of(run.incident),
        actor=actor,
        params=rotation_params(run),
        dry_run=dry_run,
        confirm_rerun=confirm_rerun,
    )


def rotation_outcome_unknown(run: RotationRun) -> bool:
    """The incident's rotation step lost its worker mid-run: resuming needs a confirmation."""
    step = run.incident.steps.filter(action_key=ROTATE_ACTION).first()
    return step is not None and step.lost_run() is not None


def rotation_is_stale(run: RotationRun) -> bool:
    """A `running` run whose worker stopped reporting (killed, timed out): resumable."""
    return ROTATION_CLAIM.is_stale(run)


@transaction.atomic
def rotation_cancel(*, run: RotationRun, actor: Any, reason: str) -> RotationRun:
    """Give up on a rotation that is not running (e.g. to start over with another key)."""
    if not actor.has_perm(REQUEST_PERMISSION):
        raise PermissionDenied(f"You need the {REQUEST_PERMISSION} permission.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the rotation is cancelled.")
    run = RotationRun.objects.select_for_update().get(pk=run.pk)
    if not ROTATION_CLAIM.can_claim(run):
        raise ValidationError(f"Rotation #{run.pk} is {run.status}; it cannot be cancelled.")
    run.status, run.finished_at = RotationRun.Status.CANCELLED, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    timeline_append(
        incident=run.incident,
        kind="rotation_cancelled",
        actor=actor,
        message=f"Rotation #{run.pk} cancelled: {reason}",
        data={"rotation_id": run.pk, "targets": [str(t) for t in run.targets.all()]},
    )
    audit.record(
        action="rotation.cancelled",
        actor=actor,
        target=run,
        incident_id=run.incident_id,
        data={"rotation_id": run.pk, "reason": reason},
    )
    return run
