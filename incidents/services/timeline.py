"""Notes on the incident timeline. The timeline itself is the engine's (append-only)."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from incidents.engine.timeline import SYSTEM, actor_label, timeline_append
from incidents.models import Incident, IncidentNote

__all__ = [
    "SYSTEM",
    "actor_label",
    "incident_note_add",
    "secret_in_note_subscribe",
    "timeline_append",
]

NOTE_PERMISSION = "incidents.add_incidentnote"

# Called after commit with the note's id when a credential was masked out of a note. The
# credential-leak detector subscribes from IncidentsConfig.ready(): services never import
# detectors.
_SECRET_IN_NOTE: list[Callable[..., None]] = []


def secret_in_note_subscribe(hook: Callable[..., None]) -> None:
    if hook not in _SECRET_IN_NOTE:
        _SECRET_IN_NOTE.append(hook)


@transaction.atomic
def incident_note_add(*, incident: Incident, text: str, actor: Any) -> IncidentNote:
    """Add a note. A credential pasted into a note is masked before it is stored and,
    being a leak in itself, opens (or joins) a Credential Leak incident."""
    if actor is not None and not actor.has_perm(NOTE_PERMISSION):
        raise PermissionDenied("You need the add_incidentnote permission.")
    text = (text or "").strip()
    if not text:
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
        for hook in _SECRET_IN_NOTE:
            transaction.on_commit(lambda hook=hook: hook(note_id=note.pk))
    return note
