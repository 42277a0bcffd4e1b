"""django-q2 entry points: thin, ids only. The paths are stored in schedules and queued
tasks (incidents/migrations/0002_schedules.py, incidents.engine.queue.TASK): keep them."""

from incidents.detectors import detectors_run_all
from incidents.engine.approvals import approvals_expire
from incidents.engine.execute import run_execute, runs_fail_stale
from incidents.gates import gates_evaluate_all
from incidents.services.paging import page_send as _page_send
from incidents.services.paging import pages_retry_due
from incidents.timers import escalations_announce


def step_run_execute(run_id: int) -> str:
    return run_execute(run_id=run_id).status


def page_send(page_id: int) -> str:
    page = _page_send(page_id=page_id)
    return page.status if page else "skipped"


def incidents_tick() -> dict:
    """Every minute: expired approvals, gates, escalation timers, stale runs, page retries."""
    return {
        "pages_retried": pages_retry_due(),
        "approvals_expired": approvals_expire(),
        "gates_checked": gates_evaluate_all(),
        "escalations_announced": escalations_announce(),
        "stale_runs_failed": runs_fail_stale(),
    }


def detectors_run() -> dict:
    return detectors_run_all()
