"""Asking for a step run: the step's permission, its parameters, and — for a risky step — an
approval first. The engine queues, claims and executes (incidents.engine)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from incidents.engine.approvals import approval_request
from incidents.engine.params import params_clean
from incidents.engine.queue import run_create
from incidents.engine.registry import action_get
from incidents.models import Approval, Incident, IncidentStep, StepRun
from incidents.selectors import step_initial_params


@transaction.atomic
def step_run_request(
    *, step: IncidentStep, actor: Any, params: dict | None = None, dry_run: bool = False
) -> StepRun | Approval:
    """Run an action step, or — for a risky step — ask for approval first.

    Returns the queued run, or the pending approval. Dry-runs of a risky step need no
    approval: they change nothing.
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
    if action.risky and not dry_run:
        return approval_request(step=step, action_key=action.key, params=cleaned, actor=actor)
    return run_create(
        step=step, action_key=action.key, params=cleaned, actor=actor, dry_run=dry_run
    )


def step_rerun(*, run: StepRun, actor: Any) -> StepRun | Approval:
    """Run again with the same parameters (a risky step asks for a fresh approval)."""
    if not run.is_finished:
        raise ValidationError("That run has not finished yet.")
    result = step_run_request(step=run.step, actor=actor, params=run.params, dry_run=run.dry_run)
    if isinstance(result, StepRun):
        StepRun.objects.filter(pk=result.pk).update(rerun_of=run)
    return result
