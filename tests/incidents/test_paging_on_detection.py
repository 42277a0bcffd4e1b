"""A detector's incident (and a SEV1/SEV2 opened by hand) pages PagerDuty and posts to
Slack #ops once, as tasks after commit, against the simulator over real sockets."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.detectors import detectors_run_all
from incidents.models import Incident, IncidentPage
from incidents.services import incident_acknowledge, incident_status_set
from incidents.tasks import incidents_tick
from integrations.degraded import degraded_override
from tests.incidents.e2e_support import sim_pages, sim_pd_incident, sim_slack_posts

pytestmark = pytest.mark.django_db


@pytest.fixture
def red_preview(simulator):
    from integrations.status import status_get

    simulator.set_fault("voucher_png", status=503)
    status_get(force=True)
    return simulator


def test_a_detected_incident_pages_on_call_and_posts_to_ops_once(red_preview, sync_tasks, settings):
    settings.PORTAL_BASE_URL = "https://ops.example.com"
    with sync_tasks():
        detectors_run_all(only=("voucher_png_red",))
    incident = Incident.objects.get(runbook_key="voucher_preview")
    [trigger] = sim_pages(red_preview, "trigger")
    assert (
        trigger["dedup_key"] == incident.pagerduty_dedup_key == f"opsportal-incident-{incident.pk}"
    )
    assert trigger["payload"]["severity"] == "warning"  # SEV3
    [post] = sim_slack_posts(red_preview)
    assert post["channel"] == settings.SLACK_OPS_CHANNEL
    assert f"https://ops.example.com/admin/incidents/incident/{incident.pk}/work/" in post["text"]
    assert {p.status for p in incident.pages.all()} == {"sent"}
    assert incident.steps.get(key="pagerduty_trigger").status == "done"
    assert incident.timeline.filter(kind="paged").count() == 2

    with sync_tasks():  # the detector sees it again: the same incident, no second page
        detectors_run_all(only=("voucher_png_red",))
    assert len(sim_pages(red_preview, "trigger")) == 1 and len(sim_slack_posts(red_preview)) == 1
    assert IncidentPage.objects.count() == 2


@pytest.mark.parametrize(
    ("severity", "pages", "pd_severity"),
    [("sev1", 1, "critical"), ("sev2", 1, "error"), ("sev3", 0, None)],
)
def test_a_person_s_incident_pages_when_sev1_or_sev2(
    simulator, sync_tasks, open_incident, support_user, severity, pages, pd_severity
):
    with sync_tasks():
        open_incident("station_redeem", actor=support_user, severity=severity)
    triggers = sim_pages(simulator, "trigger")
    assert len(triggers) == pages
    if pages:
        assert triggers[0]["payload"]["severity"] == pd_severity


def test_acknowledging_and_resolving_here_acknowledge_and_resolve_the_alert(
    simulator, sync_tasks, open_incident, ops_user
):
    with sync_tasks():
        incident = open_incident("whatsapp_send")  # by the system: a detector's
    with sync_tasks():
        incident_acknowledge(incident=incident, actor=ops_user)
    with sync_tasks():
        incident_status_set(
            incident=incident,
            status="resolved",
            actor=ops_user,
            note="the remaining steps do not apply",
        )
    events = [(b["event_action"], b["dedup_key"]) for b in sim_pages(simulator)]
    key = incident.pagerduty_dedup_key
    assert events == [("trigger", key), ("acknowledge", key)]
    page = sim_pd_incident(simulator, key)  # resolved through REST (the REST key is set)
    assert (
        page["status"] == "resolved" and f"incident #{incident.pk}" in page["notes"][0]["content"]
    )
    assert incident.steps.get(key="pagerduty_resolve").status == "done"


def test_a_failing_provider_is_retried_with_backoff_then_shown_as_a_banner(
    simulator, sync_tasks, open_incident, settings
):
    settings.INCIDENT_PAGE_MAX_ATTEMPTS = 3
    simulator.set_fault("pagerduty_events", status=503)
    with sync_tasks():
        incident = open_incident("whatsapp_send")
    page = incident.pages.get(provider="pagerduty")
    assert (page.status, page.attempts) == ("retrying", 1)
    assert page.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)
    assert "HTTP 503" in page.last_error
    assert incident.timeline.filter(kind="page_retry").count() == 1
    assert degraded_override("pagerduty") == ""  # one failure is not "keeps failing"

    with sync_tasks():  # not due yet: the tick leaves it alone
        assert incidents_tick()["pages_retried"] == 0
    for attempt in (2, 3):
        IncidentPage.objects.filter(pk=page.pk).update(next_attempt_at=timezone.now())
        with sync_tasks():
            incidents_tick()
        page.refresh_from_db()
        assert page.attempts == attempt
    assert page.status == "failed"
    assert "failed after 3 attempt(s)" in incident.timeline.get(kind="page_failed").message
    banner = degraded_override("pagerduty")
    assert f"incident #{incident.pk}" in banner and "gave up after 3" in banner


def test_a_provider_back_in_time_gets_the_page_on_the_retry(simulator, sync_tasks, open_incident):
    simulator.set_fault("pagerduty_events", status=503, times=1)
    with sync_tasks():
        incident = open_incident("whatsapp_send")
    page = incident.pages.get(provider="pagerduty")
    assert page.status == "retrying"
    IncidentPage.objects.filter(pk=page.pk).update(next_attempt_at=timezone.now())
    with sync_tasks():
        incidents_tick()
    page.refresh_from_db()
    assert (page.status, page.attempts) == ("sent", 2)
    assert len(sim_pages(simulator, "trigger")) == 1


def test_slack_not_configured_gives_up_at_once_and_says_so(
    simulator, sync_tasks, open_incident, settings
):
    settings.SLACK_ENABLED = False
    with sync_tasks():
        incident = open_incident("whatsapp_send")
    page = incident.pages.get(provider="slack")
    assert (page.status, page.attempts) == ("failed", 1)
    assert "switched off" in page.last_error
    assert f"incident #{incident.pk}" in degraded_override("slack")


def test_a_page_for_an_incident_resolved_first_is_not_sent(
    simulator, sync_tasks, open_incident, ops_user
):
    simulator.set_fault("pagerduty_events", status=503, times=1)
    with sync_tasks():
        incident = open_incident("whatsapp_send")
    with sync_tasks():
        incident_status_set(
            incident=incident,
            status="resolved",
            actor=ops_user,
            note="the remaining steps do not apply",
        )
    IncidentPage.objects.update(next_attempt_at=timezone.now())
    with sync_tasks():
        incidents_tick()
    assert sim_pages(simulator) == []  # neither a late trigger nor a resolve of nothing
    assert degraded_override("pagerduty") == ""
