"""The incident timeline: append-only, every change with its actor (masked, redacted)."""

from typing import Any

from django.utils import timezone

from audit.redaction import mask_text, redact
from incidents.models import Incident, IncidentStep, TimelineEntry

SYSTEM = "system"


def actor_label(actor: Any) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else SYSTEM


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
