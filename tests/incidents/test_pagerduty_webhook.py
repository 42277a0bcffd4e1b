"""PagerDuty → portal: signed V3 webhook events acknowledge, annotate and close the page;
forged, malformed and replayed deliveries change nothing and are audited, bounded."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from incidents.models import Incident, PagerDutyWebhookEvent, TimelineEntry, WebhookRefusal
from incidents.services import incident_acknowledge
from tests.incidents.e2e_support import WEBHOOK_URL, pd_event, pd_post, pd_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def paged(open_incident, webhook_secret):
    """A detector's incident opened at a fixed time (its page went out as opsportal-incident-N)."""
    incident = open_incident("whatsapp_send")
    opened = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=30)
    Incident.objects.filter(pk=incident.pk).update(opened_at=opened, detected_at=opened)
    incident.refresh_from_db()
    return incident


def _state(incident):
    incident.refresh_from_db()
    return (
        incident.acknowledged_at,
        incident.status,
        TimelineEntry.objects.filter(incident=incident).count(),
    )


def test_acknowledged_in_pagerduty_acknowledges_here_with_its_time(client, paged):
    at = paged.opened_at + dt.timedelta(minutes=4, seconds=30)
    event = pd_event("incident.acknowledged", dedup_key=paged.pagerduty_dedup_key, occurred_at=at)
    response = pd_post(client, event)
    assert response.status_code == 200 and response.json()["status"] == "applied"
    paged.refresh_from_db()
    assert paged.acknowledged_at == at
    assert (paged.acknowledged_via, paged.acknowledged_by_name) == ("pagerduty", "Jane Responder")
    assert paged.commander_name == "Jane Responder"  # the first to acknowledge commands
    assert paged.pagerduty_incident_id == "PINC001"
    entry = AuditEntry.objects.get(action="incident.acknowledged", incident_id=paged.pk)
    assert entry.actor_name == "pagerduty:Jane Responder" and entry.data["via"] == "pagerduty"


def test_mtta_counts_from_whichever_acknowledgement_came_first(client, paged, ops_user):
    incident_acknowledge(incident=paged, actor=ops_user)  # now: 30 min after opening
    earlier = paged.opened_at + dt.timedelta(minutes=2)
    pd_post(
        client,
        pd_event("incident.acknowledged", dedup_key=paged.pagerduty_dedup_key, occurred_at=earlier),
    )
    paged.refresh_from_db()
    assert paged.acknowledged_at == earlier and paged.acknowledged_via == "pagerduty"
    assert paged.commander_name == "olga-ops"  # the commander stays who took it here
    later = paged.opened_at + dt.timedelta(minutes=40)
    pd_post(
        client,
        pd_event("incident.acknowledged", dedup_key=paged.pagerduty_dedup_key, occurred_at=later),
    )
    paged.refresh_from_db()
    assert paged.acknowledged_at == earlier


def test_a_note_is_copied_and_a_resolve_closes_the_page_step_only(client, paged):
    key = paged.pagerduty_dedup_key
    pd_post(client, pd_event("incident.triggered", dedup_key=key, pd_incident_id="PX1"))
    note = pd_event("incident.annotated", pd_incident_id="PX1", content="DB failover running")
    assert pd_post(client, note).status_code == 200
    assert "DB failover running" in paged.timeline.get(kind="pagerduty_note").message
    assert pd_post(client, pd_event("incident.resolved", dedup_key=key)).status_code == 200
    paged.refresh_from_db()
    assert paged.status == "open"  # resolving here is a person's decision
    assert paged.steps.get(key="pagerduty_resolve").status == "done"


@pytest.mark.parametrize(
    ("signature", "status", "reason"),
    [
        (None, 400, "signature_missing"),
        ("", 400, "signature_missing"),
        ("sha256=abc", 400, "signature_malformed"),
        ("v1=zz", 400, "signature_malformed"),
        ("v1=" + "0" * 64, 403, "signature_mismatch"),
    ],
)
def test_a_bad_signature_changes_nothing(client, paged, signature, status, reason):
    before = _state(paged)
    event = pd_event("incident.acknowledged", dedup_key=paged.pagerduty_dedup_key)
    headers = {} if signature is None else {"X-PagerDuty-Signature": signature}
    response = client.post(
        WEBHOOK_URL, data=event, content_type="application/json", headers=headers
    )
    assert response.status_code == status and response.json()["error"] == reason
    assert _state(paged) == before
    assert not PagerDutyWebhookEvent.objects.exists()
    assert AuditEntry.objects.get(action="pagerduty_webhook.refused").data["reason"] == reason


def test_a_body_signed_with_another_secret_or_altered_is_refused(client, paged):
    event = pd_event("incident.acknowledged", dedup_key=paged.pagerduty_dedup_key)
    assert pd_post(client, event, secrets=("someone-elses-secret",)).status_code == 403
    import json

    body = json.dumps(event).encode()
    signature = pd_sign(body)
    tampered = body.replace(b"Jane Responder", b"Mallory Hacker")
    response = client.post(
        WEBHOOK_URL,
        data=tampered,
        content_type="application/json",
        headers={"X-PagerDuty-Signature": signature},
    )
    assert response.status_code == 403
    paged.refresh_from_db()
    assert paged.acknowledged_at is None


def test_refusals_are_audited_once_per_window_and_counted(client, paged):
    event = pd_event("incident.acknowledged", dedup_key=paged.pagerduty_dedup_key)
    for _ in range(25):
        pd_post(client, event, signature="v1=" + "1" * 64)
    assert AuditEntry.objects.filter(action="pagerduty_webhook.refused").count() == 1
    assert WebhookRefusal.objects.get(reason="signature_mismatch").count == 25


def test_secrets_rotate_either_one_signs_and_one_of_several_signatures_is_enough(
    client, paged, settings
):
    settings.PAGERDUTY_WEBHOOK_SECRETS = ["new-secret", "old-secret"]
    key = paged.pagerduty_dedup_key
    assert (
        pd_post(
            client, pd_event("incident.annotated", content="a"), secrets=("old-secret",)
        ).status_code
        == 202
    )
    event = pd_event("incident.acknowledged", dedup_key=key)
    import json

    body = json.dumps(event).encode()
    header = "v1=" + "2" * 64 + "," + pd_sign(body, "new-secret").strip()
    response = client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"X-PagerDuty-Signature": header},
    )
    assert response.status_code == 200 and response.json()["status"] == "applied"


def test_a_replayed_event_changes_nothing(client, paged):
    event = pd_event("incident.annotated", pd_incident_id="PX9", content="first")
    pd_post(
        client,
        pd_event("incident.triggered", dedup_key=paged.pagerduty_dedup_key, pd_incident_id="PX9"),
    )
    assert pd_post(client, event).status_code == 200
    before = _state(paged)
    again = pd_post(client, event)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert _state(paged) == before
    assert paged.timeline.filter(kind="pagerduty_note").count() == 1
    assert WebhookRefusal.objects.get(reason="replayed").count == 1


def test_an_event_for_an_unknown_incident_is_acknowledged_and_ignored(client, webhook_secret):
    response = pd_post(client, pd_event("incident.acknowledged", dedup_key="not-ours"))
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    assert PagerDutyWebhookEvent.objects.get().outcome == "unknown_incident"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"event": {"id": "x"}}'])
def test_a_signed_but_malformed_body_is_a_400(client, webhook_secret, body):
    response = client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"X-PagerDuty-Signature": pd_sign(body)},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_payload"


def test_the_staff_api_s_auth_does_not_swallow_the_webhook(paged, ops_user):
    """Anonymous is fine (PagerDuty has no account here); a staff session without its CSRF
    token changes nothing either way: the signature alone decides."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ops_user)
    event = pd_event("incident.acknowledged", dedup_key=paged.pagerduty_dedup_key)
    assert pd_post(browser, event).status_code == 200
    assert (
        pd_post(
            Client(enforce_csrf_checks=True), pd_event("incident.annotated", pd_incident_id="PNEW")
        ).status_code
        == 202
    )
    assert Client().get(WEBHOOK_URL).status_code == 405
    forged = pd_post(
        browser,
        pd_event("incident.resolved", dedup_key=paged.pagerduty_dedup_key),
        signature="v1=" + "3" * 64,
    )
    assert forged.status_code == 403
