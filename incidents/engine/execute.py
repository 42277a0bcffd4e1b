"""The worker side of a step run: claim the queued run, re-check it, run the action with its
log captured (a dry run inside a transaction that is rolled back), record the outcome."""

import logging
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from incidents.engine.approvals import approval_refusal
from incidents.engine.claims import ClaimRule, RunNotClaimable
from incidents.engine.params import params_hash
from incidents.engine.registry import (
    Action,
    ActionContext,
    ActionError,
    RetryableActionError,
    action_get,
)
from incidents.engine.timeline import timeline_append
from incidents.models import Approval, IncidentStep, StepRun

logger = logging.getLogger(__name__)

# A queued run is taken once. A running one whose worker is silent for longer than its
# action's budget (plus a minute of slack) lost its worker: it is never re-run by itself,
# since an action need not be idempotent. Its outcome is unknown (it may have acted) unless
# it was a dry run (rolled back) or its action is safe to retry (failed: run it again).
STALE_SLACK_SECONDS = 60
STEP_RUN_CLAIM = ClaimRule(
    noun="Run",
    claimable=(StepRun.Status.QUEUED,),
    running=StepRun.Status.RUNNING,
    last_seen=lambda run: run.started_at,
    budget=lambda run: timedelta(
        seconds=action_get(run.action_key).budget_seconds
        + getattr(settings, "INCIDENT_RUN_STALE_SLACK_SECONDS", STALE_SLACK_SECONDS)
    ),
)
# What a finished run makes of its (non-dry-run) step.
STEP_OUTCOME = {
    StepRun.Status.SUCCEEDED: IncidentStep.Status.DONE,
    StepRun.Status.FAILED: IncidentStep.Status.FAILED,
    StepRun.Status.OUTCOME_UNKNOWN: IncidentStep.Status.OUTCOME_UNKNOWN,
}


class _DryRunRollback(Exception):
    pass


def _finish(run: StepRun, status: str, *, error: str = "", result: dict | None = None) -> None:
    """Record the outcome: run row, step status, timeline, audit — one transaction."""
    outcome = STEP_OUTCOME.get(status)
    with transaction.atomic():
        run.status = status
        run.error = mask_text(error)[:500]
        run.result = result or {}
        run.finished_at = timezone.now()
        run.save()
        step = IncidentStep.objects.select_for_update().get(pk=run.step_id)
        succeeded = status == StepRun.Status.SUCCEEDED
        if not run.dry_run and outcome:
            step.status = outcome
            step.completed_at = run.finished_at if succeeded else None
            step.completed_by_name = run.actor_name if succeeded else ""
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


def _refusal(run: StepRun, action: Action) -> str | None:
    """Why the claimed run may not execute after all (checked again at the last moment)."""
    if run.step.done_elsewhere:  # e.g. the rotation saga signed everyone out already
        return f"already done by {run.step.done_elsewhere}"
    digest = params_hash(action_key=run.action_key, step_id=run.step_id, params=run.params)
    if digest != run.params_hash:
        return "the parameters changed after the run was queued"
    if action.risky and not run.dry_run:
        return approval_refusal(run)
    return None


def run_claim(run_id: int) -> StepRun | None:
    """Claim a queued run (a redelivered task finds it claimed and does nothing)."""
    with transaction.atomic():
        queryset = StepRun.objects.select_related("incident", "step", "approval", "actor")
        try:
            run = STEP_RUN_CLAIM.lock(queryset, run_id)
        except RunNotClaimable:
            return None
        refusal = _refusal(run, action_get(run.action_key))
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
            IncidentStep.objects.filter(pk=run.step_id).update(status=IncidentStep.Status.RUNNING)
    return run


def run_execute(*, run_id: int) -> StepRun:
    """Run the action, capture its log, retry only if the action is safe to retry."""
    run = run_claim(run_id)
    if run is None:
        return StepRun.objects.get(pk=run_id)
    action = action_get(run.action_key)

    def flush(_line: str) -> None:
        # A dry run's rows vanish with its rollback; its log is saved at the end.
        if not run.dry_run:
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
    attempts = action.attempts
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


def _call(action: Action, ctx: ActionContext) -> dict:
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


def _known(run: StepRun, action: Action) -> list[str]:
    """What is known of a run whose worker was lost: the lines it logged (each sub-call logs
    what it did, flushed as it goes) and what the action records elsewhere."""
    known = [line for line in run.log.splitlines() if line.strip()][-20:]
    if action.progress:
        try:
            known += action.progress(run.incident, run.params)
        except Exception:  # what is known must never stop the run being marked
            logger.exception("progress of run %s could not be read", run.pk)
    return known


def _lost(run: StepRun) -> None:
    """Record the outcome of a run whose worker was lost (call with the row locked)."""
    action = action_get(run.action_key)
    budget = action.budget_seconds
    if run.dry_run or action.safe_to_retry:
        run.log += f"\ntimed out after {budget}s (worker lost or hung)"
        _finish(run, StepRun.Status.FAILED, error="timed out")
        return
    known = _known(run, action)
    run.log += (
        f"\noutcome unknown: the worker stopped answering after {budget}s, after the run "
        "started; it may have acted. Recorded before it stopped: "
        + ("; ".join(known) if known else "nothing")
    )
    _finish(
        run,
        StepRun.Status.OUTCOME_UNKNOWN,
        error="outcome unknown: the worker was lost mid-run; check what it did (see the "
        "run's log) before running it again",
        result={"known": known},
    )


def runs_fail_stale() -> int:
    """A run stuck in `running` past its action's budget lost its worker: failed, or
    outcome unknown when it may have acted (see `_lost`)."""
    lost = 0
    running = StepRun.objects.filter(status=StepRun.Status.RUNNING).select_related(
        "incident", "approval"
    )
    for run in running:
        if not STEP_RUN_CLAIM.is_stale(run):
            continue
        with transaction.atomic():
            locked = (
                StepRun.objects.select_for_update(of=("self",))
                .select_related("incident", "approval")
                .get(pk=run.pk)
            )
            if STEP_RUN_CLAIM.is_stale(locked):
                _lost(locked)
                lost += 1
    return lost
