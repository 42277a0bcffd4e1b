"""GET /api/integrations/status: the contract in contracts.md."""

from integrations.probes import GREEN, ProbeOutcome
from tests.integrations.conftest import CONTRACT_KEYS

URL = "/api/integrations/status"


def test_anonymous_gets_401(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}


def test_staff_without_permission_gets_403(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_bad_force_value_is_400(client_for, support_user):
    response = client_for(support_user).get(URL, {"force": "maybe"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_shape_and_keys_when_nothing_is_configured(
    client_for, auditor_user, settings, probe_registry
):
    # As before campaigns registers its dispatcher probe: that one is not configured too.
    probe_registry.register_probe(
        "campaign_dispatcher", probe_registry.probe_campaign_dispatcher_missing
    )
    settings.SUPABASE_FUNCTIONS_ENABLED = False
    settings.SUPABASE_MANAGEMENT_ENABLED = False
    settings.VERCEL_ENABLED = False
    settings.PAGERDUTY_ENABLED = False
    settings.SLACK_ENABLED = False
    settings.SECRETS_MANAGER_ENABLED = False
    response = client_for(auditor_user).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"overall", "checked_at", "integrations"}
    assert body["overall"] == "red"
    assert body["checked_at"].endswith("Z")
    keys = {item["key"] for item in body["integrations"]}
    assert CONTRACT_KEYS <= keys
    for item in body["integrations"]:
        assert {"key", "label", "state", "reason", "detail", "latency_ms", "checked_at"} <= set(
            item
        )
        assert (item["state"], item["reason"]) == ("red", "not_configured")
    dispatcher = next(i for i in body["integrations"] if i["key"] == "campaign_dispatcher")
    assert "queue_length" in dispatcher


def _green_dispatcher(probe_registry):
    probe_registry.register_probe(
        "campaign_dispatcher",
        lambda: ProbeOutcome(GREEN, "ok", "worker alive", extra={"queue_length": 12}),
    )


def test_all_green_with_simulator(client_for, support_user, everything_up, probe_registry):
    _green_dispatcher(probe_registry)
    body = client_for(support_user).get(URL, {"force": "true"}).json()
    states = {i["key"]: (i["state"], i["reason"]) for i in body["integrations"]}
    assert states == {key: ("green", "ok") for key in CONTRACT_KEYS}, states
    assert body["overall"] == "green"
    dispatcher = next(i for i in body["integrations"] if i["key"] == "campaign_dispatcher")
    assert dispatcher["queue_length"] == 12


def test_overall_is_the_worst_state(client_for, support_user, everything_up, probe_registry):
    _green_dispatcher(probe_registry)
    everything_up.set_fault("slack", status=429, retry_after=5)
    body = client_for(support_user).get(URL, {"force": "true"}).json()
    assert body["overall"] == "amber"
    everything_up.set_fault("vercel", status=503)
    body = client_for(support_user).get(URL, {"force": "true"}).json()
    assert body["overall"] == "red"


def test_cached_result_is_served_until_forced(
    client_for, support_user, everything_up, probe_registry
):
    _green_dispatcher(probe_registry)
    api = client_for(support_user)
    first = api.get(URL).json()  # nothing cached yet: probes now
    calls = len(everything_up.calls("voucher_png"))
    assert calls == 1
    everything_up.set_fault("voucher_png", status=503)
    cached = api.get(URL).json()
    assert cached == first
    assert len(everything_up.calls("voucher_png")) == calls
    forced = api.get(URL, {"force": "true"}).json()
    png = next(i for i in forced["integrations"] if i["key"] == "voucher_png")
    assert (png["state"], png["reason"]) == ("red", "http_error")
    assert "503" in png["detail"]
    assert len(everything_up.calls("voucher_png")) == calls + 1


def test_stale_rows_are_reprobed_without_force(
    client_for, support_user, everything_up, probe_registry
):
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    from integrations.models import ProbeResult

    _green_dispatcher(probe_registry)
    api = client_for(support_user)
    api.get(URL)
    ProbeResult.objects.update(checked_at=timezone.now() - timedelta(seconds=61))
    cache.clear()
    api.get(URL)
    assert len(everything_up.calls("voucher_png")) == 2


def test_staff_api_token_can_read_status(client, support_user, everything_up):
    from staff.services import api_token_create

    issued = api_token_create(user=support_user, name="monitor", actor=support_user)
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert response.status_code == 200
    assert response.json()["integrations"]
