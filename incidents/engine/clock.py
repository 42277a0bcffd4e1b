"""A gate's clock: it starts when the steps the gate verifies have run (a replay's finish, a
redeploy ticked), not at detection; its deadline counts from then. A gate that verifies no
step (`clock_after` empty) starts at detection, as before."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from incidents.models import IncidentStep

_S = IncidentStep.Status


@dataclass(frozen=True)
class GateClock:
    started_at: datetime | None  # None: waiting for its step(s)
    due_at: datetime | None
    waiting_for: tuple[str, ...] = ()  # numbers of the steps not run yet, e.g. ("3.1",)


def gate_clock(step: IncidentStep) -> GateClock:
    """When this gate's clock started, and its deadline."""
    if not step.clock_after:
        started = step.incident.detected_at
    else:
        verified = list(
            IncidentStep.objects.filter(incident_id=step.incident_id, key__in=step.clock_after)
            .order_by("position")
            .values("number", "status", "completed_at")
        )
        waiting = tuple(v["number"] for v in verified if v["status"] not in IncidentStep.FINISHED)
        if waiting or not verified:
            return GateClock(None, None, waiting)
        started = max(v["completed_at"] or timezone.now() for v in verified)
    seconds = step.due_after_seconds
    due = started + timedelta(seconds=seconds) if seconds else step.due_at
    return GateClock(started, due)


def gate_state(step: IncidentStep) -> tuple[str, GateClock]:
    """What the page shows next to a gate: waiting for its step / due HH:MM / checking /
    passed / missed (its deadline went by; it may still pass later)."""
    clock = gate_clock(step)
    if step.status == _S.DONE:
        return "passed", clock
    if step.status == _S.SKIPPED:
        return "skipped", clock
    if clock.started_at is None:
        return "waiting", clock
    if clock.due_at is None:
        return "checking", clock
    return ("missed" if clock.due_at <= timezone.now() else "due"), clock
