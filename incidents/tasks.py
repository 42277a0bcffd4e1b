"""django-q2 entry points: thin, ids only. The paths are stored in schedules and queued
tasks (incidents/migrations/0002_schedules.py, incidents.engine.queue.TASK): keep them."""

from incidents.detectors import detectors_run_all
from incidents.engine.approvals import approvals_expire
from incidents.engine.execute import run_execute, runs_fail_stale
from incidents.gates import gates_evaluate_all
from incidents.timers import escalations_announce


def step_run_execute(run_id: int) -> str:
    return run_execute(run_id=run_id).status


def incidents_tick() -> dict:
    """Every minute: expired approvals, gates, escalation timers, stale runs."""
    return {
        "approvals_expired": approvals_expire(),
        "gates_checked": gates_evaluate_all(),
        "escalations_announced": escalations_announce(),
        "stale_runs_failed": runs_fail_stale(),
    }


def detectors_run() -> dict:
    return detectors_run_all()
