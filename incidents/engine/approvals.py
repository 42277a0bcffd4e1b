"""Approvals for risky steps: request, decide, expire, and the refusal rules the worker
re-checks before it runs. Every entry point calls these: the admin page, the JSON API,
the rotation pages and the worker. The two-person rule itself (never the requester,
bound to a hash, expiring) is `approvals.rules`, shared with the admin-role grants."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from approvals.rules import (
    approval_decision_check,
    approval_decision_record,
    approval_use_refusal,
    change_differences,
)
from incidents.engine.params import params_hash
from incidents.engine.queue import run_create
from incidents.engine.registry import ActionError, action_get, action_plan
from incidents.engine.timeline import actor_label, step_mark, timeline_append
from incidents.models import Approval, IncidentStep, StepRun

APPROVE_PERMISSION = "incidents.approve_risky_step"


def approval_ttl() -> timedelta:
    return timedelta(minutes=getattr(settings, "INCIDENT_APPROVAL_TTL_MINUTES", 30))


def _plan_now(*, action_key: str, incident: Any, params: dict) -> dict:
    return action_plan(action_get(action_key), incident=incident, params=params)


def plan_changes(approval: Approval, *, incident: Any, params: dict) -> str | None:
    """What the step would act on now differs from what the approval bound: say how."""
    try:
        current = _plan_now(action_key=approval.action_key, incident=incident, params=params)
    except ActionError as exc:
        return f"what the step acts on cannot be resolved any more: {exc}"
    changes = change_differences(approval.plan, current)
    if not changes:
        return None
    return (
        f"what the step acts on changed since approval #{approval.pk} was requested: "
        + "; ".join(changes)
    )


def approval_request(
    *, step: IncidentStep, action_key: str, params: dict, actor: Any, kind: str = Approval.Kind.RUN
) -> Approval:
    """Ask for approval of exactly these parameters and the plan they resolve to now (the
    records the step will act on); a request with other parameters or another plan voids
    the step's earlier pending requests (an approval is never carried over to new values).
    A skip request (`kind="skip"`, params {"note": …}) acts on nothing: its plan is empty."""
    skip = kind == Approval.Kind.SKIP
    digest = params_hash(
        action_key=f"skip:{action_key}" if skip else action_key, step_id=step.pk, params=params
    )
    try:
        plan = (
            {} if skip else _plan_now(action_key=action_key, incident=step.incident, params=params)
        )
    except ActionError as exc:
        raise ValidationError(str(exc)) from None
    now = timezone.now()
    pending = Approval.objects.select_for_update().filter(step=step, status=Approval.Status.PENDING)
    for old in pending:
        if old.params_hash == digest and old.plan == plan and old.expires_at > now:
            return old
        old.status = Approval.Status.VOID
        old.save(update_fields=["status"])
        timeline_append(
            incident=step.incident,
            kind="approval_void",
            message=f"Approval request #{old.pk} void: superseded by new parameters.",
            actor=actor,
            step=step,
        )
    approval = Approval.objects.create(
        incident=step.incident,
        step=step,
        kind=kind,
        action_key=action_key,
        params=params,
        params_hash=digest,
        plan=plan,
        requested_by=actor,
        requested_by_name=actor_label(actor),
        requested_at=now,
        expires_at=now + approval_ttl(),
    )
    step.status = IncidentStep.Status.AWAITING_APPROVAL
    step.save(update_fields=["status"])
    timeline_append(
        incident=step.incident,
        kind="approval_requested",
        message=f"Approval requested {'to skip' if skip else 'for'} step {step.number} "
        f"({action_key}).",
        actor=actor,
        step=step,
        data={"approval_id": approval.pk, "params": params, "plan": plan},
    )
    audit.record(
        action="incident.approval_requested",
        actor=actor,
        target=step.incident,
        incident_id=step.incident_id,
        data={
            "approval_id": approval.pk,
            "kind": kind,
            "action_key": action_key,
            "params": params,
            "plan": plan,
        },
    )
    return approval


@transaction.atomic
def approval_decide(
    *,
    approval: Approval,
    actor: Any,
    approve: bool,
    comment: str = "",
    params_hash_seen: str | None = None,
) -> Approval:
    """Approve or deny a pending request. On approval the run is queued with the approved
    parameters, under the requester's name, linked to this approval."""
    approval = (
        Approval.objects.select_for_update().select_related("step", "incident").get(pk=approval.pk)
    )
    # The two-person rule itself is approvals.rules, shared with the admin-role grants.
    approval_decision_check(
        approval=approval,
        actor=actor,
        permission=APPROVE_PERMISSION,
        bound_hash=approval.params_hash,
        hash_seen=params_hash_seen,
    )
    skip = approval.kind == Approval.Kind.SKIP
    if approve and skip:
        _skip_still_possible(approval)
    if approve and not skip:  # the plan the approver reviewed must still be the one
        changed = plan_changes(approval, incident=approval.incident, params=approval.params)
        if changed:
            raise ValidationError(f"Not approved: {changed}. Ask for approval again.")
    approval_decision_record(
        approval=approval,
        actor=actor,
        actor_name=actor_label(actor),
        approve=approve,
        comment=comment,
    )
    comment = approval.comment
    approval.save()
    verb = "approved" if approve else "denied"
    timeline_append(
        incident=approval.incident,
        kind=f"approval_{verb}",
        message=f"Approval #{approval.pk} {verb}" + (f": {comment}" if comment else "."),
        actor=actor,
        step=approval.step,
    )
    audit.record(
        action=f"incident.approval_{verb}",
        actor=actor,
        target=approval.incident,
        incident_id=approval.incident_id,
        data={
            "approval_id": approval.pk,
            "kind": approval.kind,
            "action_key": approval.action_key,
            "params": approval.params,
            "plan": approval.plan,
            "requested_by": approval.requested_by_name,
            "comment": comment,
        },
    )
    if approve and skip:
        _skip_approved(approval)
    elif approve:
        run_create(
            step=approval.step,
            action_key=approval.action_key,
            params=approval.params,
            actor=approval.requested_by,
            approval=approval,
        )
    elif approval.step.status == IncidentStep.Status.AWAITING_APPROVAL:
        approval.step.status = IncidentStep.Status.PENDING
        approval.step.save(update_fields=["status"])
    return approval


def _skip_still_possible(approval: Approval) -> None:
    """A skip approved late must not overwrite what happened since it was asked."""
    step = approval.step
    if not approval.incident.is_open:
        raise ValidationError("The incident is no longer open: there is nothing to skip.")
    if step.is_finished or step.runs.filter(status__in=StepRun.UNFINISHED).exists():
        raise ValidationError(f"Step {step.number} is {step.status} now: there is nothing to skip.")


def _skip_approved(approval: Approval) -> None:
    """A second person agreed that the risky step is skipped: skipped in the requester's
    name, with their note and the approver on the timeline and in the audit."""
    step = approval.step
    note = approval.params.get("note", "")
    step_mark(
        step,
        actor=approval.requested_by,
        note=note,
        status=IncidentStep.Status.SKIPPED,
        by=approval.decided_by_name,
    )
    audit.record(
        action="incident.step_skipped",
        actor=approval.requested_by,
        target=approval.incident,
        incident_id=approval.incident_id,
        data={
            "step": step.number,
            "key": step.key,
            "note": note,
            "approval_id": approval.pk,
            "approved_by": approval.decided_by_name,
        },
    )


def approval_refusal(run: StepRun) -> str | None:
    """Why this run may not execute under its approval, or None. Checked by the worker."""
    approval = run.approval
    if approval is None:
        return "no approval: risky steps need a second person's approval"
    digest = params_hash(action_key=run.action_key, step_id=run.step_id, params=run.params)
    refusal = approval_use_refusal(
        approval=approval,
        permission=APPROVE_PERMISSION,
        bound_hash=approval.params_hash,
        # Another step's approval never covers this one, whatever its parameters.
        current_hash=digest if approval.step_id == run.step_id else "",
    )
    if refusal:
        return refusal
    changed = plan_changes(approval, incident=run.incident, params=run.params)
    if changed:
        return changed
    if run.actor_id != approval.requested_by_id:
        return "the run was not started by the approved requester"
    if StepRun.objects.filter(approval=approval).exclude(pk=run.pk).exists():
        return f"approval #{approval.pk} was already used by another run"
    return None


def approvals_expire() -> int:
    """Pending requests nobody decided in time become `expired`; their steps can be run
    (requested) again. Called by the incidents tick."""
    expired = 0
    for approval_id in Approval.objects.filter(
        status=Approval.Status.PENDING, expires_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            approval = (
                Approval.objects.select_for_update(of=("self",))
                .select_related("step", "incident")
                .get(pk=approval_id)
            )
            if approval.status != Approval.Status.PENDING:
                continue
            approval.status = Approval.Status.EXPIRED
            approval.save(update_fields=["status"])
            if approval.step.status == IncidentStep.Status.AWAITING_APPROVAL:
                approval.step.status = IncidentStep.Status.PENDING
                approval.step.save(update_fields=["status"])
            timeline_append(
                incident=approval.incident,
                kind="approval_expired",
                message=f"Approval request #{approval.pk} expired undecided.",
                step=approval.step,
            )
            audit.record(
                action="incident.approval_expired",
                target=approval.incident,
                incident_id=approval.incident_id,
                data={"approval_id": approval.pk, "action_key": approval.action_key},
            )
            expired += 1
    return expired
