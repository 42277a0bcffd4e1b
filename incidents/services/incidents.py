"""Opening incidents and their status (steps marked by hand: services/steps.py)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from campaigns.models import Campaign
from incidents.engine.runbook import runbook_get
from incidents.engine.timeline import actor_label, step_mark, timeline_append
from incidents.models import ImpactedObject, Incident, IncidentStep
from incidents.services.acknowledge import first_ack
from incidents.services.escalation import incident_timers_sync
from incidents.services.paging import (
    incident_pages_on_open,
    incident_pages_on_resolve,
    pagerduty_dedup_key,
    paging_wanted,
)
from incidents.services.postmortem import incident_postmortem_generate
from incidents.services.steps import resolution_pending_check
from vouchers.models import Station, Voucher


@dataclass(frozen=True)
class Impacted:
    object_type: str  # model label, e.g. "campaigns.campaign"
    object_id: str | int
    object_repr: str = ""


_S = Incident.Status
TRANSITIONS = {
    _S.OPEN: {_S.MITIGATED, _S.RESOLVED},
    _S.MITIGATED: {_S.OPEN, _S.RESOLVED},
    _S.RESOLVED: {_S.CLOSED, _S.OPEN},
    _S.CLOSED: set(),
}


def _require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(f"You need the {perm} permission.")


def incident_impacted_add(*, incident: Incident, impacted: list[Impacted], actor: Any = None):
    for item in impacted:
        _, created = ImpactedObject.objects.get_or_create(
            incident=incident,
            object_type=item.object_type,
            object_id=str(item.object_id),
            defaults={"object_repr": item.object_repr[:200]},
        )
        if created:
            timeline_append(
                incident=incident,
                kind="impacted_added",
                message=f"Impacted: {item.object_type} {item.object_id} {item.object_repr}".strip(),
                actor=actor,
            )


def incident_open(
    *,
    runbook_key: str,
    title: str = "",
    severity: str = "",
    dedup_key: str = "",
    actor: Any = None,
    impacted: list[Impacted] = (),
    detected_at: datetime | None = None,
    detail: str = "",
    detector: str = "",
) -> tuple[Incident, bool]:
    """Open an incident (or return the open one for the same runbook + subject).

    Returns (incident, created). A detector racing another detector, or a person,
    for the same subject ends up on the same incident: the partial unique
    constraint decides and the loser joins the winner.
    """
    _require(actor, "incidents.add_incident")
    runbook = runbook_get(runbook_key)
    if severity and severity not in Incident.Severity.values:
        raise ValidationError(f"Unknown severity {severity!r}.")
    if dedup_key:
        existing = (
            Incident.objects.open().filter(runbook_key=runbook_key, dedup_key=dedup_key).first()
        )
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            return _incident_create(
                runbook, title, severity, dedup_key, actor, impacted, detected_at, detail, detector
            ), True
    except IntegrityError:
        if not dedup_key:
            raise
        existing = Incident.objects.open().get(runbook_key=runbook_key, dedup_key=dedup_key)
        return existing, False


def _incident_create(
    runbook, title, severity, dedup_key, actor, impacted, detected_at, detail, detector
):
    now = timezone.now()
    detected_at = detected_at or now
    incident = Incident.objects.create(
        runbook_key=runbook.key,
        runbook_title=runbook.title,
        # A pasted credential never reaches the title (nor the audit entries that copy it).
        title=mask_text(title or runbook.title)[:200],
        severity=severity or runbook.severity,
        dedup_key=dedup_key[:200],
        opened_by=actor if getattr(actor, "is_authenticated", False) else None,
        opened_by_name=actor_label(actor),
        detected_at=detected_at,
        opened_at=now,
        detector=detector,
    )
    incident.pagerduty_dedup_key = pagerduty_dedup_key(incident)
    incident.save(update_fields=["pagerduty_dedup_key"])
    IncidentStep.objects.bulk_create(
        IncidentStep(
            incident=incident,
            position=position,
            phase=phase,
            number=number,
            key=step.key,
            kind=step.kind,
            text=step.text,
            action_key=step.action,
            gate_key=step.gate,
            default_params=step.params,
            due_at=detected_at + step.due_after if step.due_after and not step.after else None,
            clock_after=list(step.after),
            due_after_seconds=int(step.due_after.total_seconds()) if step.due_after else None,
        )
        for position, number, phase, step in runbook.numbered_steps()
    )
    timeline_append(
        incident=incident,
        kind="opened",
        message=f"Opened from runbook “{runbook.title}”" + (f": {detail}" if detail else "."),
        actor=actor,
        data={"dedup_key": dedup_key},
    )
    if detail:
        # A detector's evidence is the detect step's note: the step is done by detecting.
        detect = incident.steps.filter(phase="detect", kind=IncidentStep.Kind.CHECKLIST).first()
        if detect:
            step_mark(detect, actor=actor, note=detail, status=IncidentStep.Status.DONE)
    incident_impacted_add(incident=incident, impacted=list(impacted), actor=actor)
    audit.record(
        action="incident.opened",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"runbook": runbook.key, "dedup_key": dedup_key, "severity": incident.severity},
    )
    if paging_wanted(severity=incident.severity, by_detector=actor is None):
        incident_pages_on_open(incident=incident, detail=detail)
    return incident


@transaction.atomic
def incident_status_set(*, incident: Incident, status: str, actor: Any, note: str = "") -> Incident:
    _require(actor, "incidents.change_incident")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if status not in TRANSITIONS:
        raise ValidationError(f"Unknown status {status!r}.")
    if status not in TRANSITIONS[incident.status]:
        raise ValidationError(f"An incident cannot go from {incident.status} to {status}.")
    note = (note or "").strip()
    pending = []
    if status == _S.RESOLVED:
        pending = resolution_pending_check(incident=incident, actor=actor, note=note)
    before, now = incident.status, timezone.now()
    incident.status = status
    if getattr(actor, "is_authenticated", False):  # a person working it acknowledges it
        first_ack(incident, at=now, by_name=actor_label(actor), via="portal", user=actor)
    if status == _S.MITIGATED:
        incident.mitigated_at = incident.mitigated_at or now
    elif status == _S.RESOLVED:
        incident.mitigated_at = incident.mitigated_at or now
        incident.resolved_at = now
    elif status == _S.CLOSED:
        incident.closed_at = now
    elif status == _S.OPEN and before == _S.RESOLVED:
        incident.resolved_at = None
        incident.reopened_count += 1
    incident.save()
    timeline_append(
        incident=incident,
        kind="status",
        message=f"Status {before} → {status}" + (f": {note}" if note else "."),
        actor=actor,
        data={"from": before, "to": status},
    )
    audit.record(
        action=f"incident.{status}",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"from": before, "to": status, "note": note}
        | ({"pending_steps": pending} if pending else {}),
    )
    _status_side_effects(incident, before, note)
    if status == _S.RESOLVED:
        incident_postmortem_generate(incident=incident, actor=actor)
    return incident


def _status_side_effects(incident: Incident, before: str, note: str) -> None:
    """Pages and escalation timers that follow a status change (inside its transaction)."""
    if incident.status == _S.RESOLVED:
        incident_pages_on_resolve(incident=incident)
    elif incident.status == _S.OPEN and before == _S.RESOLVED:
        if paging_wanted(severity=incident.severity, by_detector=incident.opened_by_id is None):
            incident_pages_on_open(incident=incident, detail=note, reopened=True)
    incident_timers_sync(incident=incident, reason=f"status {incident.status}")


def impacted_resolve(
    *, vouchers: list[str] = (), campaigns: list[str] = (), stations: list[str] = ()
) -> list[Impacted]:
    """Turn what people type (voucher codes, campaign ids, station codes) into references;
    an unknown one is refused rather than silently dropped."""
    found: list[Impacted] = []
    missing: list[str] = []
    for model, label, field, values in (
        (Voucher, "vouchers.voucher", "code", vouchers),
        (Campaign, "campaigns.campaign", "pk", campaigns),
        (Station, "vouchers.station", "code", stations),
    ):
        for value in values:
            if field == "pk" and not str(value).isdigit():
                missing.append(str(value))
                continue
            obj = model.objects.filter(**{field: value}).first()
            if obj is None:
                missing.append(str(value))
            else:
                found.append(Impacted(label, obj.pk, str(obj)))
    if missing:
        raise ValidationError(f"Not found: {', '.join(missing)}.")
    return found
