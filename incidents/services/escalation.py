"""Escalation timers wait while the incident is mitigated or its condition has cleared, and
go on from where they were when it returns (the time waited is added to their due times)."""

from django.db.models import F
from django.utils import timezone

from incidents.engine.timeline import timeline_append
from incidents.models import Incident, IncidentStep

# Escalation timers are the due times of checklist and action steps (gates keep their own).
TIMER_KINDS = (IncidentStep.Kind.ACTION, IncidentStep.Kind.CHECKLIST)


def timers_should_wait(incident: Incident) -> str:
    """Why the incident's escalation timers wait now, or "" when they run."""
    if incident.status == Incident.Status.MITIGATED:
        return "the incident is mitigated"
    if incident.condition_cleared_at is not None:
        return "the condition has cleared"
    return ""


def incident_timers_sync(*, incident: Incident, reason: str = "") -> None:
    """Pause or resume the timers to match the incident (inside the caller's transaction,
    the incident row locked by it)."""
    if not incident.is_open:
        return
    wait, now = timers_should_wait(incident), timezone.now()
    if wait and incident.timers_paused_at is None:
        Incident.objects.filter(pk=incident.pk).update(timers_paused_at=now)
        incident.timers_paused_at = now
        timeline_append(
            incident=incident,
            kind="timers_paused",
            message=f"Escalation timers paused: {wait}.",
            data={"reason": reason},
        )
    elif not wait and incident.timers_paused_at is not None:
        waited = now - incident.timers_paused_at
        IncidentStep.objects.filter(
            incident=incident,
            kind__in=TIMER_KINDS,
            due_at__isnull=False,
            announced_at__isnull=True,
        ).exclude(status__in=IncidentStep.FINISHED).update(due_at=F("due_at") + waited)
        Incident.objects.filter(pk=incident.pk).update(timers_paused_at=None)
        incident.timers_paused_at = None
        timeline_append(
            incident=incident,
            kind="timers_resumed",
            message=f"Escalation timers resumed ({reason}); due times moved by "
            f"{int(waited.total_seconds() // 60)} min waited.",
            data={"reason": reason, "waited_seconds": int(waited.total_seconds())},
        )
