"""Paging: PagerDuty Events v2 and a Slack #ops post for an incident, exactly once per
incident, provider, event and round.

Each page is our own row (`IncidentPage`: status, attempts, last error) made in the
transaction that opened, reopened, acknowledged or resolved the incident; a django-q2 task
sends it after commit. A failure the provider may get over (timeout, 5xx, 429) is retried
with backoff by the minute tick (`pages_retry_due`), a permanent one (not configured,
refused) or the last attempt gives up; every outcome is a timeline entry, and a page that
keeps failing shows as a banner on every page (incidents.degraded).

The resolve goes through `outbound.pagerduty_resolve`: with a REST key (and From) the
PagerDuty incident is resolved through REST with a note, else an Events v2 resolve.
PagerDuty de-duplicates on our dedup key, so a re-sent trigger never pages twice; a Slack
post whose answer timed out may have been posted: it is retried all the same (a second
message beats a SEV1 nobody heard about).

A little over 300 lines: making, sending and retrying a page are one state machine, kept
in one place.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from incidents.engine.timeline import SYSTEM, timeline_append
from incidents.models import Incident, IncidentPage, IncidentStep
from incidents.outbound import (
    OutboundError,
    pagerduty_acknowledge,
    pagerduty_resolve,
    pagerduty_trigger,
    slack_post,
)

TASK = "incidents.tasks.page_send"  # stored in django-q2's queue: keep the path
SEVERITY = {"sev1": "critical", "sev2": "error", "sev3": "warning"}
PAGING_SEVERITIES = ("sev1", "sev2")
# A claimed page whose worker has not reported back after this long is sent again.
STALE_SENDING = timedelta(minutes=3)
# A pending page not picked up by then (its task was lost) is enqueued again.
STALE_PENDING = timedelta(minutes=1)

_P, _E, _S = IncidentPage.Provider, IncidentPage.Event, IncidentPage.Status
LABEL = {_P.PAGERDUTY: "PagerDuty", _P.SLACK: "Slack"}


def pagerduty_dedup_key(incident: Incident) -> str:
    return incident.pagerduty_dedup_key or f"opsportal-incident-{incident.pk}"


def incident_url(incident: Incident) -> str:
    path = reverse("admin:incidents_incident_work", args=[incident.pk])
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def paging_wanted(*, severity: str, by_detector: bool) -> bool:
    """Detectors page whatever the severity; a person's incident pages when SEV1/SEV2."""
    return by_detector or severity in PAGING_SEVERITIES


def _enqueue(page_id: int) -> None:
    async_task(TASK, page_id, task_name=f"incident-page-{page_id}", timeout=60)


def _page(incident: Incident, provider: str, event: str, text: str = "") -> IncidentPage | None:
    """The page row for this round (made once), sent after commit; None if it existed."""
    try:
        with transaction.atomic():
            page = IncidentPage.objects.create(
                incident=incident,
                provider=provider,
                event=event,
                round=incident.reopened_count,
                text=text,
                created_at=timezone.now(),
            )
    except IntegrityError:  # another transaction made it: it sends it
        return None
    transaction.on_commit(lambda: _enqueue(page.pk))
    return page


def _slack_text(incident: Incident, what: str, detail: str) -> str:
    line = (
        f":rotating_light: {incident.get_severity_display()} incident #{incident.pk} {what}: "
        f"{incident.title}"
    )
    if detail:
        line += f" — {detail[:500]}"
    return f"{line}\n<{incident_url(incident)}|Open incident #{incident.pk} in OpsPortal>"


def incident_pages_on_open(*, incident: Incident, detail: str = "", reopened: bool = False):
    """Page on-call and tell #ops (call inside the transaction that opened or reopened it)."""
    what = "reopened" if reopened else f"opened by {incident.opened_by_name}"
    _page(incident, _P.PAGERDUTY, _E.TRIGGER)
    _page(incident, _P.SLACK, _E.POST, _slack_text(incident, what, detail))


def _paged(incident: Incident) -> bool:
    """This round's trigger exists and has not been given up (it went out or still may)."""
    return (
        IncidentPage.objects.filter(
            incident=incident,
            provider=_P.PAGERDUTY,
            event=_E.TRIGGER,
            round=incident.reopened_count,
        )
        .exclude(status=_S.FAILED)
        .exists()
    )


def incident_pages_on_acknowledge(*, incident: Incident) -> None:
    """Acknowledged in the portal: stop PagerDuty's escalation too (if we paged)."""
    if _paged(incident):
        _page(incident, _P.PAGERDUTY, _E.ACKNOWLEDGE)


def incident_pages_on_resolve(*, incident: Incident) -> None:
    """Resolved (or merged away) in the portal: resolve the PagerDuty alert (if we paged)."""
    if _paged(incident):
        _page(incident, _P.PAGERDUTY, _E.RESOLVE)


# --- sending (the task) ------------------------------------------------------------------


def _claim(page_id: int) -> IncidentPage | None:
    now = timezone.now()
    with transaction.atomic():
        page = (
            IncidentPage.objects.select_for_update(skip_locked=True)
            .select_related("incident")
            .filter(pk=page_id, status__in=(_S.PENDING, _S.RETRYING))
            .first()
        )
        if page is None or (page.next_attempt_at and page.next_attempt_at > now):
            return None  # sent, being sent, given up, or not due yet
        page.status, page.claimed_at = _S.SENDING, now
        page.attempts += 1
        page.save(update_fields=["status", "claimed_at", "attempts"])
    return page


def _trigger_state(page: IncidentPage) -> str | None:
    return (
        IncidentPage.objects.filter(
            incident_id=page.incident_id, provider=_P.PAGERDUTY, event=_E.TRIGGER, round=page.round
        )
        .values_list("status", flat=True)
        .first()
    )


def _deliver(page: IncidentPage) -> str:
    """Send one page; returns its reference. Raises OutboundError."""
    incident = page.incident
    key = pagerduty_dedup_key(incident)
    if page.provider == _P.SLACK:
        return slack_post(text=page.text, channel=settings.SLACK_OPS_CHANNEL)
    if page.event == _E.TRIGGER:
        return pagerduty_trigger(
            summary=f"{incident.runbook_title}: {incident.title}",
            dedup_key=key,
            severity=SEVERITY.get(incident.severity, "info"),
            details={
                "incident_id": incident.pk,
                "runbook": incident.runbook_key,
                "url": incident_url(incident),
            },
        )
    if page.event == _E.ACKNOWLEDGE:
        return pagerduty_acknowledge(dedup_key=key)
    # With a REST key this resolves the PagerDuty incident as PAGERDUTY_FROM_EMAIL, with a note.
    note = f"Resolved in OpsPortal (incident #{incident.pk}: {incident.title})."
    return pagerduty_resolve(dedup_key=key, note=note).reference


def _skip_reason(page: IncidentPage) -> str:
    """Why a page should not go out at all (it would be wrong now), or ""."""
    incident = Incident.objects.get(pk=page.incident_id)
    if page.event in (_E.TRIGGER, _E.POST) and not incident.is_open:
        return "not sent: the incident was resolved before the page went out"
    if page.provider == _P.PAGERDUTY and page.event != _E.TRIGGER:
        trigger = _trigger_state(page)
        if trigger == _S.FAILED or trigger is None:
            return "not sent: the alert was never triggered"
    return ""


def _wait_for_trigger(page: IncidentPage) -> bool:
    """An acknowledge/resolve must not overtake its trigger (PagerDuty would open an alert
    nobody resolves)."""
    return (
        page.provider == _P.PAGERDUTY
        and page.event != _E.TRIGGER
        and _trigger_state(page) in IncidentPage.UNFINISHED
    )


def page_send(*, page_id: int) -> IncidentPage | None:
    page = _claim(page_id)
    if page is None:
        return None
    skip = _skip_reason(page)
    if skip:
        return _finish(page, _S.FAILED, error=skip, quiet=True)
    if _wait_for_trigger(page):
        return _retry_later(page, "waiting for the trigger to go out", seconds=30, count=False)
    try:
        reference = _deliver(page)
    except OutboundError as exc:
        if exc.transient and page.attempts < settings.INCIDENT_PAGE_MAX_ATTEMPTS:
            return _retry_later(page, str(exc), seconds=_backoff(page.attempts, exc.retry_after))
        return _finish(page, _S.FAILED, error=str(exc))
    return _finish(page, _S.SENT, reference=reference or "")


def _backoff(attempts: int, retry_after: float | None) -> float:
    base = settings.INCIDENT_PAGE_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return min(max(base, retry_after or 0), settings.INCIDENT_PAGE_RETRY_MAX_SECONDS)


def _what(page: IncidentPage) -> str:
    if page.provider == _P.SLACK:
        return f"Slack post to {settings.SLACK_OPS_CHANNEL}"
    return f"PagerDuty {page.event}"


@transaction.atomic
def _retry_later(page: IncidentPage, error: str, *, seconds: float, count: bool = True):
    page.status = _S.RETRYING
    page.next_attempt_at = timezone.now() + timedelta(seconds=seconds)
    page.last_error = error[:500]
    if not count:
        page.attempts -= 1  # waiting is not an attempt
    page.save(update_fields=["status", "next_attempt_at", "last_error", "attempts"])
    if count:
        timeline_append(
            incident=page.incident,
            kind="page_retry",
            message=f"{_what(page)} attempt {page.attempts} failed: {error}; next attempt at "
            f"{page.next_attempt_at:%H:%M:%S} UTC.",
            data={"page_id": page.pk, "attempts": page.attempts},
        )
    return page


@transaction.atomic
def _finish(page: IncidentPage, status: str, *, error: str = "", reference: str = "", quiet=False):
    page.status, page.last_error, page.reference = status, error[:500], reference[:255]
    page.next_attempt_at = None
    if status == _S.SENT:
        page.sent_at = timezone.now()
    page.save(update_fields=["status", "last_error", "reference", "next_attempt_at", "sent_at"])
    incident = page.incident
    if status == _S.SENT:
        message = {
            (_P.PAGERDUTY, _E.TRIGGER): "Paged on-call in PagerDuty",
            (_P.PAGERDUTY, _E.ACKNOWLEDGE): "Acknowledged the PagerDuty alert",
            (_P.PAGERDUTY, _E.RESOLVE): "Resolved the PagerDuty alert",
        }.get((page.provider, page.event), f"Posted to Slack {settings.SLACK_OPS_CHANNEL}")
        suffix = f" (dedup key {pagerduty_dedup_key(incident)})."
        timeline_append(
            incident=incident,
            kind="paged",
            message=message + (suffix if page.provider == _P.PAGERDUTY else "."),
            data={"page_id": page.pk, "provider": page.provider, "event": page.event},
        )
        step_key = {_E.TRIGGER: "pagerduty_trigger", _E.RESOLVE: "pagerduty_resolve"}
        if page.provider == _P.PAGERDUTY and page.event in step_key:
            _step_done_by_system(incident, step_key[page.event], message + " automatically.")
    elif not quiet:
        timeline_append(
            incident=incident,
            kind="page_failed",
            message=f"{_what(page)} failed after {page.attempts} attempt(s): {error}. "
            + ("Page on-call by phone." if page.provider == _P.PAGERDUTY else ""),
            data={"page_id": page.pk, "attempts": page.attempts},
        )
    return page


def _step_done_by_system(incident: Incident, key: str, note: str) -> None:
    step = (
        IncidentStep.objects.select_for_update()
        .filter(incident=incident, key=key)
        .exclude(status__in=(*IncidentStep.FINISHED, IncidentStep.Status.RUNNING))
        .first()
    )
    if step is None or not incident.is_open and key != "pagerduty_resolve":
        return
    step.status, step.note = IncidentStep.Status.DONE, note
    step.completed_at, step.completed_by_name = timezone.now(), SYSTEM
    step.save(update_fields=["status", "note", "completed_at", "completed_by_name"])
    timeline_append(
        incident=incident,
        kind="step_done",
        message=f"Step {step.number} done: {step.text} — {note}",
        step=step,
    )


def pages_retry_due() -> int:
    """Every minute: enqueue pages that are due again, whose worker vanished, or whose
    task was lost. Sending claims the row, so an extra task is harmless."""
    now = timezone.now()
    IncidentPage.objects.filter(status=_S.SENDING, claimed_at__lt=now - STALE_SENDING).update(
        status=_S.RETRYING, next_attempt_at=now
    )
    due = list(
        IncidentPage.objects.filter(status=_S.RETRYING, next_attempt_at__lte=now).values_list(
            "pk", flat=True
        )[:200]
    )
    due += IncidentPage.objects.filter(
        status=_S.PENDING, created_at__lt=now - STALE_PENDING
    ).values_list("pk", flat=True)[:200]
    for page_id in due:
        _enqueue(page_id)
    return len(due)
