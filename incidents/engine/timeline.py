"""The incident timeline: append-only, every change with its actor (masked, redacted)."""

from typing import Any

from django.utils import timezone

from audit.redaction import mask_text, redact
from incidents.models import Incident, IncidentStep, TimelineEntry

SYSTEM = "system"


def actor_label(actor: Any) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else SYSTEM


def step_mark(step: IncidentStep, *, actor: Any, note: str, status: str, by: str = "") -> None:
    """A person marks a step done or skipped with a note (`by`: who approved it, if anyone)."""
    step.status = status
    step.note = mask_text(note)[:5000]
    step.completed_at = timezone.now()
    step.completed_by_name = actor_label(actor)
    step.save(update_fields=["status", "note", "completed_at", "completed_by_name"])
    timeline_append(
        incident=step.incident,
        kind=f"step_{status}",
        message=f"Step {step.number} {status}: {step.text}"
        + (f" — {note}" if note else "")
        + (f" (approved by {by})" if by else ""),
        actor=actor,
        step=step,
    )


def timeline_append(
    *,
    incident: Incident,
    kind: str,
    message: str,
    actor: Any = None,
    step: IncidentStep | None = None,
    data: dict | None = None,
) -> TimelineEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return TimelineEntry.objects.create(
        incident=incident,
        at=timezone.now(),
        kind=kind,
        actor=user,
        actor_name=actor_label(actor),
        step=step,
        message=mask_text(message),
        data=redact(data or {}),
    )
