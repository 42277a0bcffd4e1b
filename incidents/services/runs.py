"""Asking for a step run: the step's permission, its parameters, and — for a risky step — an
approval first. The engine queues, claims and executes (incidents.engine)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

import audit
from incidents.engine.approvals import approval_request
from incidents.engine.params import params_clean
from incidents.engine.queue import run_create
from incidents.engine.registry import action_get
from incidents.engine.timeline import actor_label, timeline_append
from incidents.models import Approval, Incident, IncidentStep, StepRun
from incidents.selectors import step_initial_params

CONFIRM_LABEL = "I checked: run again"


def _outcome_unknown_confirm(step: IncidentStep, actor: Any, confirmed: bool) -> None:
    """A step whose last run's worker was lost mid-run (it may have acted) runs for real
    again only when a person says they checked what it did; that is audited."""
    lost = step.lost_run()
    if lost is None:
        return
    which = f"Run #{lost.pk}"
    if not confirmed:
        raise ValidationError(
            f"{which}'s outcome is unknown: its worker was lost after it started, so it may "
            f"have acted. Check what it did (its log), then tick “{CONFIRM_LABEL}”."
        )
    data = {"step": step.number, "lost_run_id": lost.pk}
    timeline_append(
        incident=step.incident,
        kind="rerun_confirmed",
        message=f"{actor_label(actor)} checked {which.lower()} of step {step.number} "
        "(outcome unknown) and runs it again.",
        actor=actor,
        step=step,
        data=data,
    )
    audit.record(
        action="incident.step_rerun_confirmed",
        actor=actor,
        target=step.incident,
        incident_id=step.incident_id,
        data=data,
    )


def _one_real_run_at_a_time(step: IncidentStep) -> None:
    """A second real run while one is queued or running could act twice (and the sweep
    would later mark the newer outcome unknown with the older run)."""
    busy = step.runs.filter(dry_run=False, status__in=StepRun.UNFINISHED).order_by("id").first()
    if busy is not None:
        raise ValidationError(
            f"Run #{busy.pk} of step {step.number} is still {busy.status}: wait for it to end."
        )


@transaction.atomic
def step_run_request(
    *,
    step: IncidentStep,
    actor: Any,
    params: dict | None = None,
    dry_run: bool = False,
    confirm_rerun: bool = False,
) -> StepRun | Approval:
    """Run an action step, or — for a risky step — ask for approval first.

    Returns the queued run, or the pending approval. Dry-runs of a risky step need no
    approval: they change nothing. After a run whose outcome is unknown, a real run needs
    `confirm_rerun` (the person checked what the lost run did).
    """
    step = IncidentStep.objects.select_for_update().select_related("incident").get(pk=step.pk)
    if step.kind != IncidentStep.Kind.ACTION:
        raise ValidationError("Only action steps run.")
    if step.incident.status == Incident.Status.CLOSED:
        raise ValidationError("The incident is closed.")
    if step.done_elsewhere:
        raise ValidationError(f"Already done by {step.done_elsewhere}: {step.note}")
    action = action_get(step.action_key)
    if not actor.has_perm(action.permission):
        raise PermissionDenied(f"You need the {action.permission} permission for this step.")
    # Unspecified parameters start from the runbook's defaults and the incident's objects,
    # exactly as the page's form would prefill them.
    cleaned = params_clean(action.params, {**step_initial_params(step=step), **(params or {})})
    if not dry_run:
        _one_real_run_at_a_time(step)
        _outcome_unknown_confirm(step, actor, confirm_rerun)
    if action.risky and not dry_run:
        return approval_request(step=step, action_key=action.key, params=cleaned, actor=actor)
    return run_create(
        step=step, action_key=action.key, params=cleaned, actor=actor, dry_run=dry_run
    )


def step_rerun(*, run: StepRun, actor: Any, confirm_rerun: bool = False) -> StepRun | Approval:
    """Run again with the same parameters (a risky step asks for a fresh approval)."""
    if not run.is_finished:
        raise ValidationError("That run has not finished yet.")
    result = step_run_request(
        step=run.step,
        actor=actor,
        params=run.params,
        dry_run=run.dry_run,
        confirm_rerun=confirm_rerun,
    )
    if isinstance(result, StepRun):
        StepRun.objects.filter(pk=result.pk).update(rerun_of=run)
    return result
