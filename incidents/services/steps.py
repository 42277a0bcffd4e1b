"""Steps marked by a person (done, skipped) and what resolving leaves pending.

The permission to skip or tick a step is the one running it needs
(`incidents.engine.registry.step_permission`); a risky step is skipped only with a second
person's approval (`incidents.engine.approvals`, kind "skip")."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

import audit
from audit.redaction import mask_text
from incidents.engine.approvals import approval_request
from incidents.engine.registry import action_get, step_permission
from incidents.engine.timeline import step_mark, timeline_append
from incidents.models import Approval, Incident, IncidentStep


@transaction.atomic
def incident_step_complete(
    *, step: IncidentStep, actor: Any, note: str = "", skip: bool = False
) -> IncidentStep | Approval:
    """A person marks a checklist item done (or skips a step, e.g. "not rate-limited"), with
    a note. Skipping or ticking needs the permission running the step needs; skipping a
    risky step needs a second person's approval as well (returns the pending approval)."""
    step = IncidentStep.objects.select_for_update().select_related("incident").get(pk=step.pk)
    permission = step_permission(kind=step.kind, action_key=step.action_key)
    if actor is not None and not actor.has_perm(permission):
        verb = "Skipping" if skip else "Ticking"
        raise PermissionDenied(
            f"{verb} step {step.number} needs the permission running it needs: {permission}."
        )
    if not step.incident.is_open:
        raise ValidationError("The incident is no longer open.")
    if step.done_elsewhere:
        raise ValidationError(f"Already done by {step.done_elsewhere}: {step.note}")
    if step.is_finished:
        raise ValidationError(f"Step {step.number} is already {step.status}.")
    if step.kind == IncidentStep.Kind.ACTION and not skip:
        raise ValidationError("Action steps are done by running them.")
    if step.kind == IncidentStep.Kind.GATE and not skip:
        raise ValidationError("A gate passes when its check does; it can only be skipped.")
    note = (note or "").strip()
    if skip and not note:
        raise ValidationError("Say why the step is skipped.")
    if skip and step.kind == IncidentStep.Kind.ACTION and action_get(step.action_key).risky:
        return approval_request(
            step=step,
            action_key=step.action_key,
            params={"note": mask_text(note)[:2000]},
            actor=actor,
            kind=Approval.Kind.SKIP,
        )
    status = IncidentStep.Status.SKIPPED if skip else IncidentStep.Status.DONE
    step_mark(step, actor=actor, note=note, status=status)
    audit.record(
        action="incident.step_skipped" if skip else "incident.step_done",
        actor=actor,
        target=step.incident,
        incident_id=step.incident_id,
        data={"step": step.number, "key": step.key, "note": note},
    )
    return step


def steps_pending_at_resolution(incident: Incident) -> list[IncidentStep]:
    """The runbook steps neither done nor skipped (postmortem inputs come after resolving)."""
    return list(
        incident.steps.exclude(status__in=IncidentStep.FINISHED).exclude(phase="postmortem")
    )


def resolution_pending_check(*, incident: Incident, actor: Any, note: str) -> list[dict]:
    """Resolving with runbook steps still pending needs a reason; the steps are listed on
    the timeline (and so in the postmortem); returned for the resolution's audit entry."""
    pending = steps_pending_at_resolution(incident)
    if not pending:
        return []
    listed = "; ".join(f"{s.number} {s.text[:80]} ({s.status})" for s in pending)
    listed_data = [{"number": s.number, "key": s.key, "status": s.status} for s in pending]
    if not note.strip():
        raise ValidationError(
            f"{len(pending)} runbook step(s) still pending: {listed}. Say why you resolve "
            "with them pending."
        )
    timeline_append(
        incident=incident,
        kind="resolved_with_pending",
        message=f"Resolved with {len(pending)} step(s) pending: {listed}. Reason: {note}",
        actor=actor,
        data={"reason": note, "pending": listed_data},
    )
    return listed_data
