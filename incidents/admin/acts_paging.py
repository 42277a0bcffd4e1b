"""The incident page's paging and people buttons: commander, link, merge (each one service)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from incidents.models import Incident
from incidents.services import incident_commander_set, incident_link, incident_merge


def _other(request) -> Incident:
    value = request.POST.get("other", "").strip().lstrip("#")
    incident = Incident.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if incident is None:
        raise ValidationError(f"No incident #{value or '?'}.")
    return incident


def commander(request, incident: Incident):
    value = request.POST.get("commander", "")
    user = get_user_model().objects.filter(pk=int(value)).first() if value.isdigit() else None
    if user is None:
        raise ValidationError("Choose a commander.")
    incident_commander_set(incident=incident, commander=user, actor=request.user)
    return messages.SUCCESS, f"{user.get_username()} commands the incident."


def link(request, incident: Incident):
    other = _other(request)
    incident_link(
        incident=incident, other=other, actor=request.user, note=request.POST.get("note", "")
    )
    return messages.SUCCESS, f"Linked to incident #{other.pk}."


def merge(request, incident: Incident):
    into = _other(request)
    incident_merge(
        incident=incident, into=into, actor=request.user, note=request.POST.get("note", "")
    )
    return messages.SUCCESS, f"Merged into incident #{into.pk}; this one is closed."


PAGING_ACTS = {"commander": commander, "link": link, "merge": merge}
