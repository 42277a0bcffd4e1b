"""django-q2 entry points: thin, ids only."""

from incidents.services.runs import runs_fail_stale
from incidents.services.runs import step_run_execute as _step_run_execute


def step_run_execute(run_id: int) -> str:
    return _step_run_execute(run_id=run_id).status


def incidents_tick() -> dict:
    """Every minute: expired approvals, gates, escalation timers, stale runs."""
    from incidents.gates import gates_evaluate_all
    from incidents.services.approvals import approvals_expire
    from incidents.timers import escalations_announce

    return {
        "approvals_expired": approvals_expire(),
        "gates_checked": gates_evaluate_all(),
        "escalations_announced": escalations_announce(),
        "stale_runs_failed": runs_fail_stale(),
    }


def detectors_run() -> dict:
    from incidents.detectors import detectors_run_all

    return detectors_run_all()
