"""Escalation timers: a step with a due time is announced in Slack once it falls due, while
the incident is open and its timers run (they wait while it is mitigated or its condition
has cleared: incidents.services.escalation)."""

import logging

from django.db import transaction
from django.utils import timezone

from incidents.engine.timeline import timeline_append
from incidents.models import Incident, IncidentStep
from incidents.outbound import OutboundError, slack_post

logger = logging.getLogger(__name__)


def escalations_announce() -> int:
    """Announce every due, unfinished, not-yet-announced escalation step of an open incident
    whose timers run."""
    now = timezone.now()
    due = IncidentStep.objects.filter(
        kind__in=(IncidentStep.Kind.ACTION, IncidentStep.Kind.CHECKLIST),
        due_at__lte=now,
        announced_at__isnull=True,
        status__in=(
            IncidentStep.Status.PENDING,
            IncidentStep.Status.FAILED,
            IncidentStep.Status.AWAITING_APPROVAL,
        ),
        incident__status=Incident.Status.OPEN,
        incident__timers_paused_at__isnull=True,
    ).select_related("incident")
    announced = 0
    for step in due:
        with transaction.atomic():
            # Claim first, so two schedulers never announce the same step twice.
            # The incident's timers are re-checked here: mitigated or cleared meanwhile, it waits.
            claimed = IncidentStep.objects.filter(
                pk=step.pk,
                announced_at__isnull=True,
                incident__status=Incident.Status.OPEN,
                incident__timers_paused_at__isnull=True,
            ).update(announced_at=now)
            if not claimed:
                continue
            incident = step.incident
            text = (
                f":rotating_light: Escalation due for incident #{incident.pk} “{incident.title}”: "
                f"step {step.number} — {step.text}"
            )
            try:
                slack_post(text=text)
                outcome = "announced in Slack"
            except OutboundError as exc:
                outcome = f"Slack announcement failed: {exc}"
                logger.warning("escalation announcement for step %s failed: %s", step.pk, exc)
            timeline_append(
                incident=incident,
                kind="escalation_due",
                message=f"Escalation step {step.number} is due ({outcome}).",
                step=step,
            )
            announced += 1
    return announced
