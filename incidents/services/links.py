"""Linking and merging incidents (the incident page's controls; staff with change_incident).

Link: two incidents about related things, each pointing at the other on its page. Merge:
one incident is closed and points at the survivor, which takes its impacted objects and
says so on its timeline; the merged one's PagerDuty alert is resolved (the survivor's
stays), and later findings for its subject join the survivor.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from incidents.engine.timeline import actor_label, timeline_append
from incidents.models import Incident, IncidentLink
from incidents.services.incidents import Impacted, incident_impacted_add
from incidents.services.paging import incident_pages_on_resolve

LINK_PERMISSION = "incidents.change_incident"


def _check(actor: Any, incident: Incident, other: Incident) -> None:
    if actor is not None and not actor.has_perm(LINK_PERMISSION):
        raise PermissionDenied(f"You need the {LINK_PERMISSION} permission.")
    if incident.pk == other.pk:
        raise ValidationError("An incident cannot be linked to itself.")


def _link(source, target, kind, actor, note) -> IncidentLink:
    link, created = IncidentLink.objects.get_or_create(
        source=source,
        target=target,
        defaults={
            "kind": kind,
            "created_at": timezone.now(),
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
            "created_by_name": actor_label(actor),
            "note": note[:500],
        },
    )
    if not created and link.kind != kind:
        IncidentLink.objects.filter(pk=link.pk).update(kind=kind)
        link.kind = kind
    return link


@transaction.atomic
def incident_link(*, incident: Incident, other: Incident, actor: Any, note: str = ""):
    _check(actor, incident, other)
    if IncidentLink.objects.filter(source=other, target=incident).exists():
        raise ValidationError(f"Incident #{other.pk} is already linked to this one.")
    link = _link(incident, other, IncidentLink.Kind.RELATED, actor, note)
    for one, two in ((incident, other), (other, incident)):
        timeline_append(
            incident=one,
            kind="linked",
            message=f"Linked to incident #{two.pk} “{two.title}”" + (f": {note}" if note else "."),
            actor=actor,
            data={"incident": two.pk},
        )
    audit.record(
        action="incident.linked",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"other": other.pk, "note": note},
    )
    return link


@transaction.atomic
def incident_merge(*, incident: Incident, into: Incident, actor: Any, note: str = "") -> Incident:
    """Close `incident` as merged into `into` (the survivor)."""
    _check(actor, incident, into)
    first, second = sorted([incident.pk, into.pk])  # lock in id order: no deadlock
    locked = {i.pk: i for i in Incident.objects.select_for_update().filter(pk__in=[first, second])}
    incident, into = locked[incident.pk], locked[into.pk]
    if incident.merged_into_id or not incident.is_open:
        raise ValidationError(f"Incident #{incident.pk} is not open: it cannot be merged.")
    if into.merged_into_id or into.status == Incident.Status.CLOSED:
        raise ValidationError(f"Incident #{into.pk} is closed: merge into an open incident.")
    now = timezone.now()
    before = incident.status
    incident.status, incident.merged_into, incident.closed_at = Incident.Status.CLOSED, into, now
    incident.save(update_fields=["status", "merged_into", "closed_at"])
    _link(incident, into, IncidentLink.Kind.MERGED, actor, note)
    incident_impacted_add(
        incident=into,
        impacted=[
            Impacted(i.object_type, i.object_id, i.object_repr) for i in incident.impacted.all()
        ],
        actor=actor,
    )
    why = f": {note}" if note else "."
    timeline_append(
        incident=incident,
        kind="merged",
        message=f"Merged into incident #{into.pk} “{into.title}” and closed (was {before}){why}",
        actor=actor,
        data={"into": into.pk},
    )
    timeline_append(
        incident=into,
        kind="merged_in",
        message=f"Incident #{incident.pk} “{incident.title}” was merged into this one{why}",
        actor=actor,
        data={"merged": incident.pk},
    )
    incident_pages_on_resolve(incident=incident)
    audit.record(
        action="incident.merged",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"into": into.pk, "from_status": before, "note": note},
    )
    return into
