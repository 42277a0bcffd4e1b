"""NUL bytes and lone surrogates in staff input are refused with a 400 that says what is
wrong — never a 500 — on every surface: notes, titles, step parameters, the staff API's
JSON bodies, admin forms and admin searches. Nothing is stored."""

import html
import json

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from incidents.models import Incident, IncidentNote

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "a\x00b", "a\ud800b"


@pytest.fixture
def incident(admin_user):
    from incidents.services import incident_open

    return incident_open(runbook_key="station_redeem", actor=admin_user)[0]


def _html_400(response, what: str) -> None:
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert what in text and "Remove it and send the request again." in text


def test_a_note(ops_user, client, incident):
    client.force_login(ops_user)
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    _html_400(client.post(url, {"op": "note", "text": NUL}), "a NUL character")
    assert not IncidentNote.objects.exists()


def test_an_incident_title(ops_user, client):
    client.force_login(ops_user)
    response = client.post(
        reverse("admin:incidents_incident_open"), {"runbook": "station_redeem", "title": NUL}
    )
    _html_400(response, "The field 'title' contains a NUL character")
    assert not Incident.objects.exists()


def test_step_parameters_on_the_incident_page(ops_user, client, incident):
    client.force_login(ops_user)
    step = incident.steps.filter(kind="action").first()
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    response = client.post(url, {"op": "run", "step": step.pk, "param_reason": NUL})
    _html_400(response, "The field 'param_reason' contains a NUL character")
    assert not step.runs.exists()


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_a_staff_api_body(bad, ops_user, client, incident):
    client.force_login(ops_user)
    step = incident.steps.filter(kind="action").first()
    body = json.dumps({"params": {"reason": bad}})  # "\u0000" / "\ud800" escapes
    response = client.post(
        f"/api/incidents/{incident.pk}/steps/{step.key}/run",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400
    kind = "a NUL character" if bad == NUL else "an unpaired surrogate character"
    assert response.json() == {
        "error": "invalid_request",
        "detail": f"The field 'reason' contains {kind}. Remove it and send the request again.",
    }
    assert not step.runs.exists()


def test_an_admin_form(ops_user, client):
    from campaigns.models import Campaign

    campaign = Campaign.objects.create(name="Promo", template="promo_v1")
    client.force_login(ops_user)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = client.post(url, {"name": NUL, "template": "promo_v1", "throttle_per_minute": 1})
    _html_400(response, "The field 'name' contains a NUL character")
    campaign.refresh_from_db()
    assert campaign.name == "Promo"
    assert not AuditEntry.objects.filter(action="admin.changed").exists()


def test_an_admin_search(admin_user, client):
    client.force_login(admin_user)
    response = client.get(reverse("admin:auth_user_changelist"), {"q": NUL})
    _html_400(response, "The field 'q' contains a NUL character")


def test_ordinary_text_passes(ops_user, client, incident):
    client.force_login(ops_user)
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    response = client.post(url, {"op": "note", "text": "café ✓ — fine"})
    assert response.status_code == 302
    assert IncidentNote.objects.get().text == "café ✓ — fine"


def test_a_multipart_form_posted_to_the_api(ops_user, client, incident):
    client.force_login(ops_user)
    url = f"/api/incidents/{incident.pk}/steps/notify/run"
    response = client.post(url, {"note": NUL})  # the test client's default: multipart
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The field 'note' contains a NUL character")
    # A clean multipart body still reaches the API, which reads it itself (not JSON: 400).
    assert client.post(url, {"note": "fine"}).status_code == 400
