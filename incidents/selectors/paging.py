"""The incident page's paging, people and links reads: pages that keep failing, who is on
call (PagerDuty, cached), links and merges, who may command."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q

from incidents.models import OPEN_STATUSES, Incident, IncidentLink, IncidentPage, IncidentStep
from incidents.outbound import OutboundError, pagerduty_oncall_names


def page_failing(*, provider: str) -> str:
    """Why paging through `provider` is failing for an open incident, or "": a page given up
    on, or retried at least twice, whose incident is still open and was not paged by hand."""
    _S = IncidentPage.Status
    paged_by_hand = IncidentStep.objects.filter(
        incident=OuterRef("incident"), key="pagerduty_trigger", status=IncidentStep.Status.DONE
    )
    page = (
        IncidentPage.objects.filter(
            provider=provider,
            incident__status__in=OPEN_STATUSES,
            incident__merged_into__isnull=True,
        )
        .filter(Q(status=_S.FAILED) | Q(status=_S.RETRYING, attempts__gte=2))
        .exclude(last_error__startswith="not sent:")
        .exclude(Q(provider=IncidentPage.Provider.PAGERDUTY) & Exists(paged_by_hand))
        .order_by("-id")
        .first()
    )
    if page is None:
        return ""
    state = "gave up" if page.status == _S.FAILED else "retrying"
    return (
        f"incident #{page.incident_id}: {page.get_provider_display()} {page.event} {state} "
        f"after {page.attempts} attempt(s) — {page.last_error}"
    )


ONCALL_CACHE_KEY = "incidents:pagerduty-oncall"


def oncall_now() -> str:
    """Who is on call, for the page next to "Page on-call": PagerDuty's `GET /oncalls` with
    the REST key, cached briefly (a failure too, for less long); never raises."""
    cached = cache.get(ONCALL_CACHE_KEY)
    if cached is not None:
        return cached
    ttl = settings.PAGERDUTY_ONCALL_CACHE_SECONDS
    try:
        names = pagerduty_oncall_names()
    except OutboundError as exc:
        text, ttl = f"unknown (PagerDuty: {exc})", max(ttl // 2, 1)
    else:
        if names is None:
            text = "unknown (no REST key)"
        else:
            text = ", ".join(names[:3]) or "nobody on call (PagerDuty)"
    cache.set(ONCALL_CACHE_KEY, text, ttl)
    return text


def incident_paging_data(*, incident: Incident, user: Any) -> dict:
    """The incident page's paging, people and links fragments."""
    can_change = user.has_perm("incidents.change_incident") and incident.is_open
    links = list(
        IncidentLink.objects.filter(Q(source=incident) | Q(target=incident))
        .select_related("source", "target")
        .order_by("id")[:50]
    )
    return {
        "pages": list(incident.pages.order_by("id")[:50]),
        "links": [
            {"link": link, "other": link.target if link.source_id == incident.pk else link.source}
            for link in links
        ],
        "merged_into": incident.merged_into,
        "oncall": oncall_now(),
        "commander_choices": commander_candidates() if can_change else [],
        "can_link": can_change,
        "cooldown_minutes": settings.INCIDENT_DETECTOR_COOLDOWN_MINUTES,
        "ops_channel": settings.SLACK_OPS_CHANNEL,
        "gate_min_sent": settings.INCIDENT_GATE_MIN_TARGETS_SENT,
    }


COMMAND_PERMISSION = "incidents.add_incident"  # who can command: support, ops, admin


def commander_candidates() -> list:
    """Active staff who can work an incident, by username (staff only: a short list)."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
    return [u for u in users[:200] if u.has_perm(COMMAND_PERMISSION)]
