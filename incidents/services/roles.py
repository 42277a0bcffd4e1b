"""The incident's commander: assigned by ops/admin (change_incident), else whoever
acknowledged first (incidents.services.acknowledge)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

import audit
from incidents.engine.timeline import actor_label, timeline_append
from incidents.models import Incident

ASSIGN_PERMISSION = "incidents.change_incident"
# Who can command: staff who may work incidents (support, ops, admin), not auditors.
COMMAND_PERMISSION = "incidents.add_incident"


@transaction.atomic
def incident_commander_set(*, incident: Incident, commander: Any, actor: Any) -> Incident:
    if not actor.has_perm(ASSIGN_PERMISSION):
        raise PermissionDenied(f"You need the {ASSIGN_PERMISSION} permission.")
    if not (commander.is_active and commander.is_staff and commander.has_perm(COMMAND_PERMISSION)):
        raise ValidationError(f"{commander.get_username()} cannot command an incident.")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status == Incident.Status.CLOSED:
        raise ValidationError("The incident is closed.")
    before = incident.commander_name
    incident.commander, incident.commander_name = commander, commander.get_username()
    incident.save(update_fields=["commander", "commander_name"])
    timeline_append(
        incident=incident,
        kind="commander",
        message=f"Commander: {incident.commander_name}" + (f" (was {before})." if before else "."),
        actor=actor,
        data={"commander": incident.commander_name, "before": before},
    )
    audit.record(
        action="incident.commander_set",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"commander": incident.commander_name, "before": before, "by": actor_label(actor)},
    )
    return incident
