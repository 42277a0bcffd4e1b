"""Acknowledging an incident: here, by a status change, or in PagerDuty (its webhook)."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

import audit
from incidents.engine.timeline import actor_label, timeline_append
from incidents.models import Incident
from incidents.services.paging import incident_pages_on_acknowledge

ACK_PERMISSION = "incidents.add_incident"


def first_ack(incident: Incident, *, at, by_name: str, via: str, user=None) -> bool:
    """MTTA counts from the first acknowledgement, wherever it came from (the portal, a
    status change, PagerDuty): keep the earliest. The first acknowledger commands by default."""
    if incident.acknowledged_at is not None and incident.acknowledged_at <= at:
        return False
    incident.acknowledged_at = max(at, incident.opened_at)
    incident.acknowledged_by_name, incident.acknowledged_via = by_name[:150], via
    if not incident.commander_name:
        incident.commander = user if getattr(user, "is_authenticated", False) else None
        incident.commander_name = by_name[:150]
    return True


@transaction.atomic
def incident_acknowledge(
    *,
    incident: Incident,
    actor: Any,
    via: str = "portal",
    at: datetime | None = None,
    by_name: str = "",
    data: dict | None = None,
) -> Incident:
    """Acknowledge: a person here (`actor`), or PagerDuty's webhook (`via="pagerduty"`,
    `by_name` the responder, `at` when they did). A later acknowledgement elsewhere only
    adds to the timeline; the earliest one is the incident's."""
    if actor is not None and not actor.has_perm(ACK_PERMISSION):
        raise PermissionDenied(f"You need the {ACK_PERMISSION} permission.")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    name = by_name or actor_label(actor)
    where = " in PagerDuty" if via == "pagerduty" else ""
    first = first_ack(incident, at=at or timezone.now(), by_name=name, via=via, user=actor)
    if first:
        incident.save(
            update_fields=[
                "acknowledged_at",
                "acknowledged_by_name",
                "acknowledged_via",
                "commander",
                "commander_name",
            ]
        )
    elif via == incident.acknowledged_via:
        return incident  # acknowledged here before: nothing new
    timeline_append(
        incident=incident,
        kind="acknowledged",
        message=(
            f"Acknowledged{where} by {name}." if first else f"Also acknowledged{where} by {name}."
        ),
        actor=actor,
        data={"via": via, "first": first, **(data or {})},
    )
    audit.record(
        action="incident.acknowledged",
        actor=actor,
        actor_name="" if actor else f"pagerduty:{name}"[:150],
        target=incident,
        incident_id=incident.pk,
        data={"via": via, "first": first, "by": name, **(data or {})},
    )
    if first and via == "portal":
        incident_pages_on_acknowledge(incident=incident)
    return incident
