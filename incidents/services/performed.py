"""Runbook steps that another process performed (the rotation saga's revoke, sign-out,
confirmation and summary): marked done by it, with its evidence and a link to its run, and
never run a second time (no second approval, no second sign-out)."""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from incidents.engine.timeline import timeline_append
from incidents.models import Approval, Incident, IncidentStep


@dataclass(frozen=True)
class Performed:
    key: str  # the runbook step's key, e.g. "revoke_key"
    evidence: str  # what shows it happened: "key revoked at 10:42:05 UTC (…)"
    data: dict = field(default_factory=dict)


def incident_step_done_by_person(*, incident_id: int, key: str, since=None) -> IncidentStep | None:
    """The step, when a person already did it (at or after `since`, when given), so the saga
    does not do it again."""
    done = IncidentStep.objects.filter(
        incident_id=incident_id, key=key, status=IncidentStep.Status.DONE, done_elsewhere=""
    )
    if since is not None:
        done = done.filter(completed_at__gte=since)
    return done.first()


@transaction.atomic
def incident_steps_performed(
    *, incident: Incident, by: str, link: str, performed: list[Performed], actor: Any
) -> list[str]:
    """Mark each unfinished step done by `by` (e.g. "rotation #3"); returns their numbers.
    A pending approval for one of them is void: there is nothing left to approve."""
    done = []
    for item in performed:
        step = (
            IncidentStep.objects.select_for_update().filter(incident=incident, key=item.key).first()
        )
        if step is None or step.is_finished:
            continue
        step.status = IncidentStep.Status.DONE
        step.note = f"{item.evidence} — by {by}: {link}"[:5000]
        step.completed_at = timezone.now()
        step.completed_by_name = by
        step.done_elsewhere = by
        step.save(
            update_fields=["status", "note", "completed_at", "completed_by_name", "done_elsewhere"]
        )
        Approval.objects.filter(step=step, status=Approval.Status.PENDING).update(
            status=Approval.Status.VOID, decided_at=step.completed_at
        )
        timeline_append(
            incident=incident,
            kind="step_done_elsewhere",
            message=f"Step {step.number} done by {by}: {item.evidence}",
            actor=actor,
            step=step,
            data={"by": by, "link": link, **item.data},
        )
        audit.record(
            action="incident.step_done",
            actor=actor,
            target=incident,
            incident_id=incident.pk,
            data={"step": step.number, "key": step.key, "by": by, "evidence": item.evidence},
        )
        done.append(step.number)
    return done
