"""POST /api/campaigns/{id}/start|stop and GET …/status, per contracts.md."""

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from campaigns.models import Campaign
from integrations.models import ProbeResult

pytestmark = pytest.mark.django_db


def url(campaign_id, action):
    return f"/api/campaigns/{campaign_id}/{action}"


def whatsapp_probe(state):
    ProbeResult.objects.create(
        key="whatsapp",
        label="WhatsApp send",
        state=state,
        reason="ok" if state == "green" else "http_error",
        checked_at=timezone.now(),
    )


def test_ops_starts_a_draft_campaign_and_gets_the_status_body(
    client_for, ops_user, campaign_factory
):
    whatsapp_probe("green")
    campaign = campaign_factory(3, state="draft")

    response = client_for(ops_user).post(url(campaign.pk, "start"))

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": campaign.pk,
        "name": "Promo",
        "state": "running",
        "queue_length": 3,
        "counts": {"pending": 3, "sent": 0, "failed": 0, "invalid": 0},
        "last_progress_at": body["last_progress_at"],
        "throttle_per_minute": 6000,
        "quiet_hours": None,
        "next_send_at": None,
    }
    entry = AuditEntry.objects.get(action="campaign.start")
    assert entry.actor == ops_user and entry.target_id == str(campaign.pk)


def test_start_is_refused_while_the_whatsapp_probe_is_red(client_for, ops_user, campaign_factory):
    whatsapp_probe("red")
    campaign = campaign_factory(3, state="paused")

    response = client_for(ops_user).post(url(campaign.pk, "start"))

    assert response.status_code == 409
    assert response.json()["error"] == "integration_unhealthy"
    assert Campaign.objects.get(pk=campaign.pk).state == "paused"


def test_start_probes_live_when_no_fresh_result_exists(
    client_for, ops_user, campaign_factory, settings
):
    settings.SUPABASE_URL = ""  # not configured → the live probe is red
    campaign = campaign_factory(1, state="draft")

    response = client_for(ops_user).post(url(campaign.pk, "start"))

    assert (response.status_code, response.json()["error"]) == (409, "integration_unhealthy")


def test_start_with_the_simulator_up_is_accepted(client_for, ops_user, campaign_factory, sim):
    campaign = campaign_factory(1, state="draft")
    assert client_for(ops_user).post(url(campaign.pk, "start")).status_code == 200


def test_start_of_a_completed_campaign_is_invalid_state(client_for, ops_user, campaign_factory):
    whatsapp_probe("green")
    campaign = campaign_factory(0, state="completed")

    response = client_for(ops_user).post(url(campaign.pk, "start"))

    assert (response.status_code, response.json()["error"]) == (409, "invalid_state")


def test_stop_pauses_and_stopping_again_is_a_no_op(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(2)
    client = client_for(ops_user)

    first = client.post(url(campaign.pk, "stop"))
    second = client.post(url(campaign.pk, "stop"))

    assert first.status_code == second.status_code == 200
    assert first.json()["state"] == second.json()["state"] == "paused"
    assert AuditEntry.objects.filter(action="campaign.stop").count() == 1


@pytest.mark.parametrize("action,method", [("start", "post"), ("stop", "post"), ("status", "get")])
def test_unknown_campaign_is_404_not_found(client_for, ops_user, action, method):
    response = getattr(client_for(ops_user), method)(url(999999, action))
    assert (response.status_code, response.json()) == (
        404,
        {"error": "not_found", "detail": "no campaign 999999"},
    )


@pytest.mark.parametrize("persona", ["support_user", "auditor_user"])
def test_readers_see_status_but_may_not_control(request, client_for, campaign_factory, persona):
    user = request.getfixturevalue(persona)
    campaign = campaign_factory(2)
    client = client_for(user)

    assert client.get(url(campaign.pk, "status")).status_code == 200
    for action in ("start", "stop"):
        response = client.post(url(campaign.pk, action))
        assert (response.status_code, response.json()) == (403, {"error": "forbidden"})
    assert Campaign.objects.get(pk=campaign.pk).state == "running"


def test_anonymous_is_401(client, campaign_factory):
    campaign = campaign_factory(1)
    assert client.post(url(campaign.pk, "stop")).status_code == 401


def test_staff_api_token_can_stop_without_csrf(ops_user, campaign_factory):
    from django.test import Client

    from staff.services import api_token_create

    token = api_token_create(user=ops_user, name="runbook").plaintext
    campaign = campaign_factory(1)
    client = Client(enforce_csrf_checks=True)

    response = client.post(url(campaign.pk, "stop"), HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200 and response.json()["state"] == "paused"


def test_session_post_without_csrf_token_is_refused(ops_user, campaign_factory):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_user)
    campaign = campaign_factory(1)

    assert client.post(url(campaign.pk, "stop")).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).state == "running"


def test_wrong_method_is_405_not_500(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(1)
    assert client_for(ops_user).get(url(campaign.pk, "start")).status_code == 405
