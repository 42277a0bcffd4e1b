"""Supabase Management, Vercel, PagerDuty and Slack clients against the simulator."""

import pytest

from integrations.clients.pagerduty import PagerDutyEventsClient, PagerDutyRestClient
from integrations.clients.slack import SlackClient
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.clients.vercel import VercelClient
from integrations.errors import (
    IntegrationError,
    NotConfigured,
    RateLimited,
    Rejected,
    Timeout,
    Unavailable,
)

# --- Supabase Management ---------------------------------------------------------------


def test_supabase_function_status_and_auth_header(simulator):
    client = SupabaseManagementClient()
    assert {f["slug"]: f["status"] for f in client.functions()} == {
        "voucher-png": "ACTIVE",
        "send-whatsapp": "ACTIVE",
    }
    simulator.set_function_status("voucher-png", "THROTTLED")
    assert client.function("voucher-png")["status"] == "THROTTLED"
    call = simulator.calls("supabase_management")[-1]
    assert call["path"] == "/v1/projects/opsportaldemoproject/functions/voucher-png"
    assert call["headers"]["authorization"] == "Bearer sim-access-token"


def test_supabase_secrets_set_list_delete(simulator):
    client = SupabaseManagementClient()
    client.secrets_set({"SERVICE_ROLE_KEY": "v1", "OTHER": "v2"})
    assert client.secret_names() == ["OTHER", "SERVICE_ROLE_KEY"]
    client.secrets_delete(["OTHER"])
    assert client.secret_names() == ["SERVICE_ROLE_KEY"]


def test_supabase_reserved_secret_name_is_refused_before_sending(simulator):
    with pytest.raises(ValueError, match="SUPABASE_URL"):
        SupabaseManagementClient().secrets_set({"SUPABASE_URL": "x", "OK_NAME": "y"})
    assert simulator.calls("supabase_management") == []


def test_supabase_api_keys_create_revoke_and_legacy_disable(simulator):
    client = SupabaseManagementClient()
    key = client.api_key_create(name="opsportal_rotated")
    assert key["api_key"].startswith("sb_secret_")
    client.api_key_revoke(key["id"], reason="leaked")
    call = simulator.calls("supabase_management", "DELETE")[-1]
    assert call["query"] == {"was_compromised": "true", "reason": "leaked"}
    with pytest.raises(Rejected) as exc:
        client.api_key_revoke(key["id"], reason="again")
    assert exc.value.status == 404
    client.legacy_keys_disable()
    assert simulator.state()["legacy_keys_enabled"] is False


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ({"revoked": True}, Rejected, 401),
        ({"status": 429, "retry_after": 9}, RateLimited, 429),
        ({"status": 500}, Unavailable, 500),
    ],
)
def test_supabase_faults(simulator, fault, error, status):
    simulator.set_fault("supabase_management", **fault)
    with pytest.raises(error) as exc:
        SupabaseManagementClient().functions()
    assert exc.value.status == status


def test_supabase_get_retries_once_on_503_then_succeeds(simulator):
    simulator.set_fault("supabase_management", status=503, times=1)
    assert SupabaseManagementClient().functions()
    assert len(simulator.calls("supabase_management")) == 2


def test_supabase_post_is_never_retried(simulator):
    simulator.set_fault("supabase_management", status=503, times=1)
    with pytest.raises(Unavailable):
        SupabaseManagementClient().secrets_set({"A": "b"})
    assert len(simulator.calls("supabase_management")) == 1


def test_supabase_not_configured_without_token(settings):
    settings.SUPABASE_ACCESS_TOKEN = ""
    settings.SUPABASE_MANAGEMENT_ENABLED = True
    with pytest.raises(NotConfigured):
        SupabaseManagementClient().functions()


# --- Vercel ------------------------------------------------------------------------------


def test_vercel_env_upsert_list_edit_delete(simulator):
    client = VercelClient()
    created = client.env_upsert(
        key="SUPABASE_SERVICE_ROLE_KEY", value="new", targets=["production"]
    )
    again = client.env_upsert(
        key="SUPABASE_SERVICE_ROLE_KEY", value="newer", targets=["production"]
    )
    assert again["id"] == created["id"]
    envs = client.env_list()
    assert [e["key"] for e in envs] == ["SUPABASE_SERVICE_ROLE_KEY"]
    assert "value" not in envs[0]
    client.env_edit(created["id"], value="edited")
    client.env_delete(created["id"])
    assert client.env_list() == []
    assert simulator.calls("vercel", "POST")[-1]["query"] == {"upsert": "true"}


@pytest.mark.parametrize(
    ("targets", "kind"), [(["moon"], "encrypted"), ([], "encrypted"), (["production"], "secret")]
)
def test_vercel_invalid_env_is_refused_before_sending(simulator, targets, kind):
    with pytest.raises(ValueError):
        VercelClient().env_upsert(key="X", value="v", targets=targets, type=kind)
    assert simulator.calls("vercel") == []


def test_vercel_redeploy_and_poll_until_ready(simulator):
    client = VercelClient()
    current = client.production_deployment()
    deployment = client.redeploy_production()
    assert deployment["readyState"] == "QUEUED"
    assert client.deployment_wait(deployment["id"], interval=0.01) == "READY"
    # The new build now serves production: the next redeploy starts from it.
    assert client.production_deployment()["id"] == deployment["id"] != current["id"]
    assert simulator.calls("vercel", "POST")[-1]["body"]["deploymentId"] == current["id"]


@pytest.mark.parametrize("result", ["ERROR", "CANCELED", "BLOCKED"])
def test_vercel_failed_deploy_raises(simulator, result):
    simulator.set_deploy_result(result)
    client = VercelClient()
    current = client.production_deployment()
    deployment = client.redeploy_production()
    with pytest.raises(IntegrationError) as exc:
        client.deployment_wait(deployment["id"], interval=0.01)
    assert exc.value.code == f"deployment_{result.lower()}"
    assert client.production_deployment()["id"] == current["id"]  # production untouched


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        ({"revoked": True}, Rejected, "forbidden"),
        ({"status": 429, "retry_after": 2}, RateLimited, "rate_limited"),
        ({"status": 500}, Unavailable, "internal_server_error"),
    ],
)
def test_vercel_faults(simulator, fault, error, code):
    simulator.set_fault("vercel", **fault)
    with pytest.raises(error) as exc:
        VercelClient().env_list()
    assert exc.value.code == code


def test_vercel_team_id_is_sent(simulator, settings):
    settings.VERCEL_TEAM_ID = "team_1"
    VercelClient().env_list()
    assert simulator.calls("vercel")[-1]["query"] == {"teamId": "team_1"}


# --- PagerDuty ---------------------------------------------------------------------------


def test_pagerduty_trigger_and_resolve(simulator):
    client = PagerDutyEventsClient()
    dedup = client.trigger(summary="Voucher PNG red", source="opsportal", severity="critical")
    assert dedup
    assert client.resolve(dedup_key=dedup) == dedup
    bodies = [c["body"] for c in simulator.calls("pagerduty_events")]
    assert [b["event_action"] for b in bodies] == ["trigger", "resolve"]
    assert all(b["routing_key"] == "sim-routing-key" for b in bodies)


@pytest.mark.parametrize("dedup_key", ["", "  "])
def test_pagerduty_resolve_without_dedup_key_is_refused_before_sending(simulator, dedup_key):
    with pytest.raises(ValueError):
        PagerDutyEventsClient().resolve(dedup_key=dedup_key)
    with pytest.raises(ValueError):
        PagerDutyEventsClient().acknowledge(dedup_key=dedup_key)
    assert simulator.calls("pagerduty_events") == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [({"status": 429}, RateLimited), ({"status": 502}, Unavailable), ({"hang": True}, Timeout)],
)
def test_pagerduty_events_faults(simulator, settings, fault, error):
    settings.INTEGRATIONS_READ_TIMEOUT = 0.3
    simulator.set_fault("pagerduty_events", **fault)
    with pytest.raises(error):
        PagerDutyEventsClient().trigger(summary="s", source="opsportal")


def test_pagerduty_rest_finds_resolves_and_notes_the_incident_events_opened(simulator):
    PagerDutyEventsClient().trigger(summary="Key leaked", source="opsportal", dedup_key="leak-1")
    client = PagerDutyRestClient()
    [incident] = client.incidents_by_key("leak-1", open_only=True)
    assert incident["status"] == "triggered"
    assert client.incident_note_add(incident["id"], "rotated")["note"]["content"] == "rotated"
    assert client.incident_resolve(incident["id"])["incident"]["status"] == "resolved"
    assert client.incidents_by_key("leak-1", open_only=True) == []
    assert [i["status"] for i in client.incidents_by_key("leak-1")] == ["resolved"]
    call = simulator.calls("pagerduty", "PUT")[-1]
    assert call["headers"]["from"] == "ops@example.com"
    assert call["headers"]["authorization"] == "Token token=sim-pagerduty-key"
    assert call["headers"]["accept"] == "application/vnd.pagerduty+json;version=2"


def test_pagerduty_rest_without_from_email_is_not_configured(simulator, settings):
    settings.PAGERDUTY_FROM_EMAIL = ""
    with pytest.raises(NotConfigured):
        PagerDutyRestClient().incident_resolve("PSIM0001")
    assert simulator.calls("pagerduty") == []


def test_pagerduty_rest_unknown_incident_is_not_found(simulator):
    with pytest.raises(Rejected) as exc:
        PagerDutyRestClient().incident_resolve("PNOPE00")
    assert (exc.value.status, exc.value.code) == (404, "2100")


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        ({"revoked": True}, Rejected, "2006"),
        ({"status": 429}, RateLimited, "2020"),
        ({"status": 500}, Unavailable, "2000"),
    ],
)
def test_pagerduty_rest_faults(simulator, fault, error, code):
    simulator.set_fault("pagerduty", **fault)
    with pytest.raises(error) as exc:
        PagerDutyRestClient().incident_resolve("PSIM0001")
    assert exc.value.code == code


# --- Slack ---------------------------------------------------------------------------------


def test_slack_post_message(simulator):
    ts = SlackClient().post_message(text="Voucher previews unavailable")
    assert ts
    call = simulator.calls("slack")[-1]
    assert call["body"] == {"channel": "#ops", "text": "Voucher previews unavailable"}
    assert call["headers"]["authorization"] == "Bearer xoxb-sim-bot-token"


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth"]
)
def test_slack_ok_false_is_rejected_with_its_code(simulator, error):
    simulator.set_fault("slack", slack_error=error)
    with pytest.raises(Rejected) as exc:
        SlackClient().post_message(text="x")
    assert (exc.value.code, exc.value.status) == (error, 200)


@pytest.mark.parametrize("error", ["ratelimited", "rate_limited"])
def test_slack_rate_limit_spellings_both_map_to_rate_limited(simulator, error):
    simulator.set_fault("slack", slack_error=error)
    with pytest.raises(RateLimited) as exc:
        SlackClient().post_message(text="x")
    assert exc.value.code == error


def test_slack_429_with_retry_after(simulator):
    simulator.set_fault("slack", status=429, retry_after=30)
    with pytest.raises(RateLimited) as exc:
        SlackClient().post_message(text="x")
    assert (exc.value.status, exc.value.retry_after) == (429, 30.0)


def test_slack_revoked_token(simulator):
    simulator.set_fault("slack", revoked=True)
    with pytest.raises(Rejected) as exc:
        SlackClient().auth_test()
    assert exc.value.code == "invalid_auth"


def test_slack_5xx_and_hang(simulator, settings):
    simulator.set_fault("slack", status=503)
    with pytest.raises(Unavailable):
        SlackClient().post_message(text="x")
    settings.INTEGRATIONS_READ_TIMEOUT = 0.3
    simulator.set_fault("slack", hang=True)
    with pytest.raises(Timeout):
        SlackClient().post_message(text="x")
