"""Incident roles (commander, on-call), link and merge, MTTA/MTTR on fixed timestamps and
the postmortem's paging sections."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEntry
from incidents.models import Incident, IncidentPage
from incidents.selectors import incidents_metrics, oncall_now
from incidents.services import (
    incident_acknowledge,
    incident_commander_set,
    incident_merge,
    incident_status_set,
    postmortem_markdown,
)
from tests.incidents.e2e_support import pd_event, pd_post

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def _at(incident, **times):
    Incident.objects.filter(pk=incident.pk).update(**times)
    incident.refresh_from_db()
    return incident


def test_mtta_and_mttr_on_fixed_timestamps_with_a_pagerduty_acknowledgement(
    client, open_incident, webhook_secret, ops_user
):
    incident = _at(
        open_incident("whatsapp_send"), detected_at=T0, opened_at=T0 + dt.timedelta(minutes=1)
    )
    ack = pd_event(
        "incident.acknowledged",
        dedup_key=incident.pagerduty_dedup_key,
        occurred_at=T0 + dt.timedelta(minutes=7, seconds=30),
    )
    assert pd_post(client, ack).status_code == 200
    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    incident = _at(incident, resolved_at=T0 + dt.timedelta(hours=1, minutes=40))
    other = _at(open_incident("voucher_preview", dedup_key="x"), detected_at=T0, opened_at=T0)
    incident_acknowledge(incident=other, actor=ops_user)
    other = _at(
        other,
        acknowledged_at=T0 + dt.timedelta(minutes=3, seconds=30),
        resolved_at=T0 + dt.timedelta(hours=2, minutes=20),
    )

    assert incident.acknowledged_at - incident.opened_at == dt.timedelta(minutes=6, seconds=30)
    metrics = incidents_metrics(days=100000)
    assert metrics["mtta"] == dt.timedelta(minutes=5)  # mean of 6m30s and 3m30s
    assert metrics["mttr"] == dt.timedelta(hours=2)  # mean of 1h40m and 2h20m
    markdown = postmortem_markdown(incident=incident)
    assert "first acknowledgement): 6m 30s (by Jane Responder in PagerDuty)" in markdown
    assert "detected → resolved): 1h 40m 00s" in markdown


def test_the_commander_is_the_first_to_acknowledge_then_whoever_ops_assigns(
    open_incident, support_user, ops_user, admin_user
):
    incident = open_incident("station_redeem")
    incident_acknowledge(incident=incident, actor=support_user)
    incident.refresh_from_db()
    assert incident.commander_name == "sam-support"
    with pytest.raises(PermissionDenied):
        incident_commander_set(incident=incident, commander=support_user, actor=support_user)
    incident_commander_set(incident=incident, commander=admin_user, actor=ops_user)
    incident.refresh_from_db()
    assert incident.commander_id == admin_user.pk and incident.commander_name == "ada-admin"
    assert (
        "Commander: ada-admin (was sam-support)." in incident.timeline.get(kind="commander").message
    )
    assert AuditEntry.objects.get(action="incident.commander_set").data["commander"] == "ada-admin"


def test_the_auditor_cannot_command(open_incident, ops_user, auditor_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        incident_commander_set(incident=open_incident(), commander=auditor_user, actor=ops_user)


def test_the_incident_page_shows_commander_on_call_links_and_pages(
    client_for, open_incident, ops_user, settings
):
    settings.PAGERDUTY_API_KEY = ""
    incident = open_incident("whatsapp_send")
    page = client_for(ops_user).get(reverse("admin:incidents_incident_work", args=[incident.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'On call: <span class="oncall-names">unknown (no REST key)</span>' in body
    assert 'name="op" value="merge"' in body and 'value="commander"' in body
    assert "Paging" in body and "pagerduty" in body.lower()


def test_on_call_comes_from_pagerduty_with_the_rest_key_and_is_cached(simulator):
    assert oncall_now() == "Ada Oncall, Ben Backup"
    assert oncall_now() == "Ada Oncall, Ben Backup"
    assert len([c for c in simulator.calls("pagerduty") if c["path"] == "/oncalls"]) == 1


def test_merging_closes_one_points_it_at_the_survivor_and_resolves_its_page(
    client_for, open_incident, ops_user, support_user
):
    survivor = open_incident("whatsapp_send", actor=ops_user)
    merged = open_incident(
        "whatsapp_send", dedup_key="whatsapp", impacted=[("campaigns.campaign", 7, "Promo")]
    )
    with pytest.raises(PermissionDenied):
        incident_merge(incident=merged, into=survivor, actor=support_user)
    response = client_for(ops_user).post(
        reverse("admin:incidents_incident_act", args=[merged.pk]),
        {"op": "merge", "other": str(survivor.pk), "note": "same outage"},
    )
    assert response.status_code == 302
    merged.refresh_from_db()
    assert (merged.status, merged.merged_into_id) == ("closed", survivor.pk)
    assert survivor.impacted.filter(object_id="7").exists()
    assert f"#{merged.pk}" in survivor.timeline.get(kind="merged_in").message
    assert IncidentPage.objects.filter(incident=merged, event="resolve").exists()
    assert AuditEntry.objects.filter(action="incident.merged", incident_id=merged.pk).exists()
    assert f"merged in: #{merged.pk}" in postmortem_markdown(incident=survivor)
    # Later findings for the merged subject join the survivor.
    from incidents.detectors.registry import Finding, finding_open

    incident, outcome = finding_open(
        Finding("whatsapp_send", "whatsapp", "WhatsApp sends failing", "again")
    )
    assert (incident.pk, outcome) == (survivor.pk, "existing")


def test_linking_shows_on_both_pages(client_for, open_incident, ops_user):
    one, two = (
        open_incident("whatsapp_send", dedup_key="a"),
        open_incident("dispatcher_stall", dedup_key="b"),
    )
    client = client_for(ops_user)
    client.post(
        reverse("admin:incidents_incident_act", args=[one.pk]),
        {"op": "link", "other": f"#{two.pk}"},
    )
    body = client.get(reverse("admin:incidents_incident_work", args=[two.pk])).content.decode()
    assert f"#{one.pk} {one.title}" in body
    assert (
        one.timeline.filter(kind="linked").exists() and two.timeline.filter(kind="linked").exists()
    )


def test_the_postmortem_lists_failed_previews_pages_and_acknowledgements(
    open_incident, ops_user, support_user, monkeypatch
):
    from vouchers.preview import Preview, preview_failure_record

    incident = open_incident("voucher_preview")
    preview_failure_record(actor=support_user, code="V-ABC", preview=Preview(error="timeout"))
    incident_acknowledge(incident=incident, actor=ops_user)
    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    incident.refresh_from_db()
    markdown = incident.postmortem_markdown
    assert "## Failed voucher previews while open" in markdown
    assert "V-ABC: timeout — sam-support" in markdown
    assert "PagerDuty trigger (round 0)" in markdown and "Slack post (round 0)" in markdown
    assert "Acknowledged by olga-ops." in markdown
