"""What a detector's finding does to incidents, in this order:

1. an open incident for the subject (or the survivor it was merged into) gets the new
   impacted objects, and its condition is present again;
2. a finding already explained — a resolved or closed incident of the runbook naming the
   subject or one of its objects, resolved at or after the evidence — changes nothing;
3. an open incident of the runbook opened by hand that names one of the objects (or names
   nothing at all) gets the evidence: timeline, objects, the subject as its own;
4. an incident resolved within the cool-down for the subject is reopened (and pages again);
5. otherwise a new incident opens (and pages).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

import audit
from incidents.engine.timeline import SYSTEM, timeline_append
from incidents.models import Incident, IncidentStep
from incidents.services.escalation import incident_timers_sync
from incidents.services.incidents import (
    Impacted,
    incident_impacted_add,
    incident_open,
    incident_status_set,
)

_S = Incident.Status
DONE = (_S.RESOLVED, _S.CLOSED)


@dataclass(frozen=True)
class Detected:
    runbook_key: str
    subject: str  # the dedup key
    title: str
    detail: str
    impacted: tuple[Impacted, ...] = ()
    evidence_at: datetime | None = None  # the newest evidence; None = now (current state)


def cooldown_default() -> timedelta:
    return timedelta(minutes=settings.INCIDENT_DETECTOR_COOLDOWN_MINUTES)


def _names_objects(impacted) -> Q:
    q = Q(pk__in=[])
    for item in impacted:
        q |= Q(impacted__object_type=item.object_type, impacted__object_id=str(item.object_id))
    return q


def _open_for(found: Detected) -> Incident | None:
    incident = (
        Incident.objects.open()
        .filter(runbook_key=found.runbook_key, dedup_key=found.subject)
        .first()
    )
    if incident:
        return incident
    merged = (
        Incident.objects.filter(
            runbook_key=found.runbook_key, dedup_key=found.subject, merged_into__isnull=False
        )
        .order_by("-id")
        .first()
    )
    while merged is not None and merged.merged_into_id:
        merged = merged.merged_into
    return merged if merged is not None and merged.is_open else None


def _explained(found: Detected, evidence_at: datetime) -> Incident | None:
    return (
        Incident.objects.filter(
            runbook_key=found.runbook_key, status__in=DONE, resolved_at__gte=evidence_at
        )
        .filter(Q(dedup_key=found.subject) | _names_objects(found.impacted))
        .order_by("-resolved_at")
        .first()
    )


def _by_hand(found: Detected) -> Incident | None:
    """An open incident a person opened for this runbook that names one of the objects, or
    (when none does) one that names nothing and has no subject yet."""
    mine = Incident.objects.open().filter(
        runbook_key=found.runbook_key, opened_by__isnull=False, merged_into__isnull=True
    )
    if found.impacted:
        naming = mine.filter(_names_objects(found.impacted)).order_by("id").first()
        if naming:
            return naming
    return mine.filter(dedup_key="", impacted__isnull=True).order_by("id").first()


def _recently_resolved(found: Detected, cooldown: timedelta) -> Incident | None:
    return (
        Incident.objects.filter(
            runbook_key=found.runbook_key,
            dedup_key=found.subject,
            status=_S.RESOLVED,
            merged_into__isnull=True,
            resolved_at__gte=timezone.now() - cooldown,
        )
        .order_by("-resolved_at")
        .first()
    )


def incident_detected(
    *, found: Detected, detector: str = "", cooldown: timedelta | None = None
) -> tuple[Incident | None, str]:
    """Apply one finding; returns (incident or None, "existing" | "explained" | "attached" |
    "reopened" | "opened")."""
    cooldown = cooldown_default() if cooldown is None else cooldown
    evidence_at = found.evidence_at or timezone.now()
    incident = _open_for(found)
    if incident:
        incident_impacted_add(incident=incident, impacted=list(found.impacted))
        incident_condition_set(incident=incident, present=True, detector=detector)
        return incident, "existing"
    if _explained(found, evidence_at):
        return None, "explained"
    incident = _by_hand(found)
    if incident:
        return incident_evidence_attach(incident=incident, found=found, detector=detector), (
            "attached"
        )
    incident = _recently_resolved(found, cooldown)
    if incident:
        reopened = _reopen(incident, found, cooldown)
        if reopened:
            return reopened, "reopened"
    incident, created = incident_open(
        runbook_key=found.runbook_key,
        title=found.title,
        dedup_key=found.subject,
        detail=found.detail,
        impacted=list(found.impacted),
        detector=detector,
    )
    return incident, "opened" if created else "existing"


def _reopen(incident: Incident, found: Detected, cooldown: timedelta) -> Incident | None:
    minutes = int(cooldown.total_seconds() // 60)
    try:
        with transaction.atomic():
            incident = incident_status_set(
                incident=incident,
                status=_S.OPEN,
                actor=None,
                note=f"the cause recurred within the {minutes}-minute cool-down: {found.detail}",
            )
            incident_impacted_add(incident=incident, impacted=list(found.impacted))
            # The cause is back: timers paused because it had cleared run again.
            incident = incident_condition_set(
                incident=incident, present=True, detector=incident.detector
            )
            timeline_append(
                incident=incident,
                kind="reopened",
                message=f"Reopened by the detector: {found.detail}",
                data={"subject": found.subject},
            )
    except (ValidationError, IntegrityError):
        # Someone reopened it first, or a new incident for the subject opened meanwhile.
        return _open_for(found)
    return incident


@transaction.atomic
def incident_evidence_attach(*, incident: Incident, found: Detected, detector: str) -> Incident:
    """A detector's evidence on an incident a person opened, instead of a second incident."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    fields = []
    if not incident.dedup_key:
        taken = Incident.objects.open().filter(
            runbook_key=incident.runbook_key, dedup_key=found.subject
        )
        if not taken.exists():
            incident.dedup_key = found.subject[:200]
            fields.append("dedup_key")
    if detector and not incident.detector:
        incident.detector = detector
        fields.append("detector")
    if fields:
        incident.save(update_fields=fields)
    timeline_append(
        incident=incident,
        kind="evidence_attached",
        message=f"Detector {detector or 'finding'}: {found.detail} (attached here instead of "
        "opening a second incident).",
        data={"subject": found.subject, "detector": detector},
    )
    incident_impacted_add(incident=incident, impacted=list(found.impacted))
    detect = incident.steps.filter(
        phase="detect", kind=IncidentStep.Kind.CHECKLIST, status=IncidentStep.Status.PENDING
    ).first()
    if detect:
        detect.status, detect.note = IncidentStep.Status.DONE, found.detail[:5000]
        detect.completed_at, detect.completed_by_name = timezone.now(), SYSTEM
        detect.save(update_fields=["status", "note", "completed_at", "completed_by_name"])
    audit.record(
        action="incident.evidence_attached",
        target=incident,
        incident_id=incident.pk,
        data={"subject": found.subject, "detector": detector, "detail": found.detail[:500]},
    )
    return incident


@transaction.atomic
def incident_condition_set(*, incident: Incident, present: bool, detector: str = "") -> Incident:
    """The detector sees the condition (again), or no longer does: escalation timers follow."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    cleared = incident.condition_cleared_at is not None
    if present == (not cleared):
        return incident
    incident.condition_cleared_at = None if present else timezone.now()
    incident.save(update_fields=["condition_cleared_at"])
    who = f"detector {detector}" if detector else "the detector"
    timeline_append(
        incident=incident,
        kind="condition_returned" if present else "condition_cleared",
        message=f"The condition is back ({who} sees it again)."
        if present
        else f"The condition has cleared ({who} no longer sees it).",
        data={"detector": detector},
    )
    incident_timers_sync(incident=incident, reason=f"condition {'back' if present else 'cleared'}")
    return incident


def incidents_condition_sweep(*, detector: str, seen: set[str]) -> int:
    """After a detector ran: its open incidents whose subject it did not report have cleared."""
    cleared = 0
    for incident in (
        Incident.objects.open()
        .filter(detector=detector, condition_cleared_at__isnull=True)
        .exclude(dedup_key__in=seen)
    ):
        incident_condition_set(incident=incident, present=False, detector=detector)
        cleared += 1
    return cleared


def detected_summary(outcomes: list[str]) -> dict[str, Any]:
    return {
        key: outcomes.count(key)
        for key in ("opened", "existing", "attached", "reopened", "explained")
    }
