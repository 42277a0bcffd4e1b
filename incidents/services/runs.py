"""Running action steps: request (permission, params, approval) → queued run → worker."""

import logging
import time
import traceback
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from incidents.actions.base import (
    ActionContext,
    ActionError,
    RetryableActionError,
    action_get,
    params_clean,
    params_hash,
)
from incidents.models import Approval, IncidentStep, StepRun
from incidents.services.approvals import approval_refusal, approval_request
from incidents.services.timeline import actor_label, timeline_append

logger = logging.getLogger(__name__)


class _DryRunRollback(Exception):
    pass


def _task_timeout(action_key: str) -> int:
    """The action's whole budget (all attempts), kept below django-q2's `retry` so a slow run
    is never handed to a second worker while the first still works on it."""
    from django.conf import settings

    action = action_get(action_key)
    budget = action.timeout_seconds * (action.max_attempts if action.safe_to_retry else 1) + 10
    return max(10, min(budget, settings.Q_CLUSTER.get("retry", 180) - 10))


def _enqueue(run: StepRun) -> None:
    from django_q.tasks import async_task

    run_id, timeout = run.pk, _task_timeout(run.action_key)
    transaction.on_commit(
        lambda: async_task(
            "incidents.tasks.step_run_execute",
            run_id,
            task_name=f"incident-step-run-{run_id}",
            timeout=timeout,
        )
    )


def step_run_create(
    *,
    step: IncidentStep,
    action_key: str,
    params: dict,
    actor: Any,
    dry_run: bool = False,
    approval: Approval | None = None,
    rerun_of: StepRun | None = None,
) -> StepRun:
    run = StepRun.objects.create(
        incident=step.incident,
        step=step,
        action_key=action_key,
        params=params,
        params_hash=params_hash(action_key=action_key, step_id=step.pk, params=params),
        dry_run=dry_run,
        approval=approval,
        rerun_of=rerun_of,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=actor_label(actor),
        queued_at=timezone.now(),
    )
    timeline_append(
        incident=step.incident,
        kind="run_queued",
        message=f"{'Dry run' if dry_run else 'Run'} #{run.pk} of step {step.number} queued.",
        actor=actor,
        step=step,
        data={"run_id": run.pk, "params": params},
    )
    _enqueue(run)
    return run


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
    if step.incident.status == "closed":
        raise ValidationError("The incident is closed.")
    action = action_get(step.action_key)
    if not actor.has_perm(action.permission):
        raise PermissionDenied(f"You need the {action.permission} permission for this step.")
    # Unspecified parameters start from the runbook's defaults and the incident's objects,
    # exactly as the page's form would prefill them.
    from incidents.selectors import step_initial_params

    cleaned = params_clean(action, {**step_initial_params(step=step), **(params or {})})
    if action.risky and not dry_run:
        return approval_request(step=step, action_key=action.key, params=cleaned, actor=actor)
    return step_run_create(
        step=step, action_key=action.key, params=cleaned, actor=actor, dry_run=dry_run
    )


def step_rerun(*, run: StepRun, actor: Any) -> StepRun | Approval:
    """Run again with the same parameters (a risky step asks for a fresh approval)."""
    if run.status in (StepRun.Status.QUEUED, StepRun.Status.RUNNING):
        raise ValidationError("That run has not finished yet.")
    result = step_run_request(step=run.step, actor=actor, params=run.params, dry_run=run.dry_run)
    if isinstance(result, StepRun):
        StepRun.objects.filter(pk=result.pk).update(rerun_of=run)
    return result


def _finish(run: StepRun, status: str, *, error: str = "", result: dict | None = None) -> None:
    """Record the outcome: run row, step status, timeline, audit — one transaction."""
    action_outcome = {"succeeded": "done", "failed": "failed"}.get(status)
    with transaction.atomic():
        run.status = status
        run.error = mask_text(error)[:500]
        run.result = result or {}
        run.finished_at = timezone.now()
        run.save()
        step = IncidentStep.objects.select_for_update().get(pk=run.step_id)
        if not run.dry_run and action_outcome:
            step.status = action_outcome
            step.completed_at = run.finished_at if status == "succeeded" else None
            step.completed_by_name = run.actor_name if status == "succeeded" else ""
        elif step.status == IncidentStep.Status.RUNNING or (
            status == StepRun.Status.CANCELLED
            and step.status == IncidentStep.Status.AWAITING_APPROVAL
        ):
            step.status = IncidentStep.Status.PENDING
        step.save(update_fields=["status", "completed_at", "completed_by_name"])
        label = "Dry run" if run.dry_run else "Run"
        timeline_append(
            incident=run.incident,
            kind=f"run_{status}",
            message=f"{label} #{run.pk} of step {step.number} {status}"
            + (f": {run.error}" if run.error else "."),
            actor=run.actor,
            step=step,
            data={"run_id": run.pk},
        )
        audit.record(
            action="incident.step_run",
            actor=run.actor,
            actor_name=run.actor_name,
            target=run.incident,
            incident_id=run.incident_id,
            data={
                "run_id": run.pk,
                "step": step.number,
                "action_key": run.action_key,
                "params": run.params,
                "dry_run": run.dry_run,
                "outcome": status,
                "error": run.error,
                "approval_id": run.approval_id,
                "approved_by": run.approval.decided_by_name if run.approval else "",
            },
        )


def _start(run_id: int) -> StepRun | None:
    """Claim a queued run (a redelivered task finds it claimed and does nothing)."""
    with transaction.atomic():
        run = (
            StepRun.objects.select_for_update(of=("self",))
            .select_related("incident", "step", "approval", "actor")
            .get(pk=run_id)
        )
        if run.status != StepRun.Status.QUEUED:
            return None
        action = action_get(run.action_key)
        refusal = None
        if params_hash(action_key=run.action_key, step_id=run.step_id, params=run.params) != (
            run.params_hash
        ):
            refusal = "the parameters changed after the run was queued"
        elif action.risky and not run.dry_run:
            refusal = approval_refusal(run)
        if refusal:
            run.log = f"refused: {refusal}"
            _finish(run, StepRun.Status.CANCELLED, error=f"refused: {refusal}")
            return None
        if run.approval_id:
            Approval.objects.filter(pk=run.approval_id).update(status=Approval.Status.USED)
        run.status = StepRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
        if not run.dry_run:
            IncidentStep.objects.filter(pk=run.step_id).update(status="running")
    return run


def step_run_execute(*, run_id: int) -> StepRun:
    """The worker side: run the action, capture its log, retry only if the action is safe to."""
    run = _start(run_id)
    if run is None:
        return StepRun.objects.get(pk=run_id)
    action = action_get(run.action_key)

    def flush(_line: str) -> None:
        if (
            not run.dry_run
        ):  # a dry run's rows vanish with its rollback; its log is saved at the end
            StepRun.objects.filter(pk=run.pk).update(log="\n".join(ctx.lines))

    ctx = ActionContext(
        incident=run.incident,
        step=run.step,
        params=run.params,
        dry_run=run.dry_run,
        actor=run.actor,
        actor_name=run.actor_name,
        on_log=flush,
    )
    attempts = action.max_attempts if action.safe_to_retry else 1
    status, error, result = StepRun.Status.FAILED, "", {}
    for attempt in range(1, attempts + 1):
        run.attempts = attempt
        try:
            result = _call(action, ctx)
            status, error = StepRun.Status.SUCCEEDED, ""
            break
        except RetryableActionError as exc:
            error = str(exc)
            ctx.log(f"attempt {attempt}/{attempts} failed: {exc}")
            if attempt < attempts:
                time.sleep(min(0.2 * 2**attempt, 5))
        except ActionError as exc:
            error = str(exc)
            ctx.log(f"failed: {exc}")
            break
        except Exception as exc:  # a bug in an action: keep the traceback in the run's log
            error = f"unexpected error: {type(exc).__name__}: {exc}"
            ctx.log(error)
            ctx.log(traceback.format_exc(limit=5))
            logger.exception("incident step run %s crashed", run.pk)
            break
    run.log = "\n".join(ctx.lines)
    _finish(run, status, error=error, result=result)
    return run


def _call(action, ctx: ActionContext) -> dict:
    if not ctx.dry_run:
        return action.func(ctx) or {}
    ctx.log("dry run: nothing is changed; database writes are rolled back")
    outcome: dict = {}
    try:
        with transaction.atomic():
            outcome = action.func(ctx) or {}
            raise _DryRunRollback
    except _DryRunRollback:
        pass
    return {"dry_run": True, **outcome}


def runs_fail_stale() -> int:
    """A run stuck in `running` past its action's time budget lost its worker: mark it failed."""
    failed = 0
    for run in StepRun.objects.filter(status=StepRun.Status.RUNNING).select_related(
        "incident", "approval"
    ):
        action = action_get(run.action_key)
        budget = action.timeout_seconds * (action.max_attempts if action.safe_to_retry else 1)
        if run.started_at and (timezone.now() - run.started_at).total_seconds() > budget + 60:
            with transaction.atomic():
                locked = StepRun.objects.select_for_update().get(pk=run.pk)
                if locked.status == StepRun.Status.RUNNING:
                    locked.log += f"\ntimed out after {budget}s (worker lost or hung)"
                    _finish(locked, StepRun.Status.FAILED, error="timed out")
                    failed += 1
    return failed
