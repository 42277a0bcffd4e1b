"""The incident timeline: append-only, every change with its actor."""

from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text, redact
from incidents.models import Incident, IncidentNote, IncidentStep, TimelineEntry

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


@transaction.atomic
def incident_note_add(*, incident: Incident, text: str, actor: Any) -> IncidentNote:
    """Add a note. A credential pasted into a note is masked before it is stored and,
    being a leak in itself, opens (or joins) a Credential Leak incident."""
    text = (text or "").strip()
    if not text:
        from django.core.exceptions import ValidationError

        raise ValidationError("A note needs some text.")
    masked = mask_text(text[:10000])
    note = IncidentNote.objects.create(
        incident=incident,
        at=timezone.now(),
        author=actor,
        author_name=actor_label(actor),
        text=masked,
    )
    timeline_append(incident=incident, kind="note", message=masked, actor=actor)
    audit.record(
        action="incident.note_added",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"note_id": note.pk},
    )
    if masked != text:
        from incidents.detectors.credential_leak import secret_seen_in_note

        transaction.on_commit(lambda: secret_seen_in_note(note_id=note.pk))
    return note
