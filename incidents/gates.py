"""Verification gates: checks with an optional deadline, re-evaluated by a schedule."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from incidents.models import OPEN_STATUSES, Incident, IncidentStep
from incidents.services.timeline import timeline_append


@dataclass(frozen=True)
class GateResult:
    passed: bool
    detail: str


GateCheck = Callable[[Incident], GateResult]
_GATES: dict[str, GateCheck] = {}


def gate_check(key: str) -> Callable[[GateCheck], GateCheck]:
    def wrap(func: GateCheck) -> GateCheck:
        _GATES[key] = func
        return func

    return wrap


def gate_get(key: str) -> GateCheck:
    from incidents import gate_checks  # noqa: F401  (registers the checks)

    return _GATES[key]


@gate_check("incident_note_added")
def _note_added(incident: Incident) -> GateResult:
    count = incident.notes.count()
    return GateResult(count > 0, f"{count} note(s) on the incident")


def gate_evaluate(*, step: IncidentStep) -> IncidentStep:
    """Check one gate now; passing is final, a miss past the deadline marks it overdue (failed)
    but it keeps being checked, so a late pass still turns it green."""
    try:
        result = gate_get(step.gate_key)(step.incident)
    except Exception as exc:  # a check that cannot run is a miss, never a crash of the sweep
        result = GateResult(False, f"check could not run: {type(exc).__name__}: {exc}")
    now = timezone.now()
    with transaction.atomic():
        step = IncidentStep.objects.select_for_update().select_related("incident").get(pk=step.pk)
        if step.status in ("done", "skipped"):
            return step
        step.last_checked_at = now
        step.last_check_detail = result.detail[:500]
        fields = ["last_checked_at", "last_check_detail"]
        if result.passed:
            step.status, step.completed_at, step.completed_by_name = "done", now, "system"
            fields += ["status", "completed_at", "completed_by_name"]
            timeline_append(
                incident=step.incident,
                kind="gate_passed",
                message=f"Gate {step.number} passed: {step.text} ({result.detail})",
                step=step,
            )
        elif step.due_at and now >= step.due_at and step.status != "failed":
            step.status = "failed"
            fields.append("status")
            timeline_append(
                incident=step.incident,
                kind="gate_overdue",
                message=f"Gate {step.number} missed its deadline: {step.text} ({result.detail})",
                step=step,
            )
        step.save(update_fields=fields)
    return step


def gates_evaluate_all(*, min_interval: timedelta = timedelta(seconds=20)) -> int:
    """Re-check every unfinished gate of every open incident (the schedule calls this)."""
    now = timezone.now()
    steps = IncidentStep.objects.filter(
        kind="gate", status__in=("pending", "failed"), incident__status__in=OPEN_STATUSES
    ).select_related("incident")
    checked = 0
    for step in steps:
        if step.last_checked_at and now - step.last_checked_at < min_interval:
            continue
        gate_evaluate(step=step)
        checked += 1
    return checked
