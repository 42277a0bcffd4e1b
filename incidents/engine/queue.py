"""Queueing a step run: our run record first, then the django-q2 task once it is committed."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

import audit
from incidents.engine.params import params_hash
from incidents.engine.registry import action_get
from incidents.engine.timeline import actor_label, timeline_append
from incidents.models import Approval, IncidentStep, StepRun

TASK = "incidents.tasks.step_run_execute"  # stored in django-q2's queue: keep the path


def task_timeout(action_key: str) -> int:
    """The action's budget plus a little, kept below django-q2's `retry` so a slow run is
    never handed to a second worker while the first still works on it."""
    budget = action_get(action_key).budget_seconds + 10
    return max(10, min(budget, settings.Q_CLUSTER.get("retry", 180) - 10))


def _enqueue(run: StepRun) -> None:
    run_id, timeout = run.pk, task_timeout(run.action_key)
    transaction.on_commit(
        lambda: async_task(TASK, run_id, task_name=f"incident-step-run-{run_id}", timeout=timeout)
    )


def run_create(
    *,
    step: IncidentStep,
    action_key: str,
    params: dict,
    actor: Any,
    dry_run: bool = False,
    approval: Approval | None = None,
    rerun_of: StepRun | None = None,
) -> StepRun:
    """Record a queued run of already validated parameters and enqueue it after commit."""
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
    # Queuing is a change a person made (page or API): audited now, in this transaction;
    # the run's outcome gets its own entry when the worker finishes it.
    audit.record(
        action="incident.step_queued",
        actor=actor,
        target=step.incident,
        incident_id=step.incident_id,
        data={
            "run_id": run.pk,
            "step": step.number,
            "action_key": action_key,
            "dry_run": dry_run,
            "params": params,
            "approval_id": approval.pk if approval else None,
        },
    )
    _enqueue(run)
    return run
