"""Evaluating gates: passing is final; a miss past the deadline marks the gate overdue."""

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from incidents.engine.clock import gate_clock
from incidents.engine.timeline import SYSTEM, timeline_append
from incidents.gates.registry import GateResult, gate_get
from incidents.models import OPEN_STATUSES, IncidentStep

CHECK_PERMISSION = "incidents.run_safe_step"
_S = IncidentStep.Status


def gate_evaluate(*, step: IncidentStep) -> IncidentStep:
    """Check one gate now; passing is final, a miss past the deadline marks it overdue (failed)
    but it keeps being checked, so a late pass still turns it green. Before the steps it
    verifies have run it is not checked at all: nothing can pass it early."""
    if step.is_finished:
        return step
    clock = gate_clock(step)
    if clock.started_at is None:
        numbers = ", ".join(clock.waiting_for) or "?"
        result = GateResult(False, f"waiting for step {numbers} to run")
    else:
        try:
            result = gate_get(step.gate_key)(step.incident, clock.started_at)
        except Exception as exc:  # a check that cannot run is a miss, never a crash
            result = GateResult(False, f"check could not run: {type(exc).__name__}: {exc}")
    now = timezone.now()
    with transaction.atomic():
        step = IncidentStep.objects.select_for_update().select_related("incident").get(pk=step.pk)
        if step.is_finished:
            return step
        step.last_checked_at = now
        step.last_check_detail = result.detail[:500]
        fields = ["last_checked_at", "last_check_detail"]
        if clock.due_at != step.due_at:  # the clock started: the page shows "due HH:MM"
            step.due_at = clock.due_at
            fields.append("due_at")
        if result.passed:
            step.status, step.completed_at, step.completed_by_name = _S.DONE, now, SYSTEM
            fields += ["status", "completed_at", "completed_by_name"]
            timeline_append(
                incident=step.incident,
                kind="gate_passed",
                message=f"Gate {step.number} passed: {step.text} ({result.detail})",
                step=step,
            )
        elif step.due_at and now >= step.due_at and step.status != _S.FAILED:
            step.status = _S.FAILED
            fields.append("status")
            timeline_append(
                incident=step.incident,
                kind="gate_overdue",
                message=f"Gate {step.number} missed its deadline: {step.text} ({result.detail})",
                step=step,
            )
        step.save(update_fields=fields)
    return step


def gate_check_now(*, step: IncidentStep, actor: Any) -> IncidentStep:
    """A person's "Check now" on the incident page."""
    if not actor.has_perm(CHECK_PERMISSION):
        raise PermissionDenied("You need the run_safe_step permission.")
    return gate_evaluate(step=step)


def gates_evaluate_all(*, min_interval: timedelta = timedelta(seconds=20)) -> int:
    """Re-check every unfinished gate of every open incident (the schedule calls this)."""
    now = timezone.now()
    steps = IncidentStep.objects.filter(
        kind=IncidentStep.Kind.GATE,
        status__in=(_S.PENDING, _S.FAILED),
        incident__status__in=OPEN_STATUSES,
    ).select_related("incident")
    checked = 0
    for step in steps:
        if step.last_checked_at and now - step.last_checked_at < min_interval:
            continue
        gate_evaluate(step=step)
        checked += 1
    return checked
