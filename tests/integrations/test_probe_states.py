"""Each probe's state/reason for each fault the simulator can produce."""

import pytest

from integrations import probes

FAULT_CASES = [
    # (service fault key, fault, probe key, state, reason)
    ("voucher_png", {"status": 503}, "voucher_png", "red", "http_error"),
    ("voucher_png", {"status": 429, "retry_after": 4}, "voucher_png", "amber", "rate_limited"),
    ("voucher_png", {"revoked": True}, "voucher_png", "red", "http_error"),
    ("voucher_png", {"hang": True}, "voucher_png", "red", "timeout"),
    ("whatsapp", {"status": 500}, "whatsapp", "red", "http_error"),
    ("whatsapp", {"status": 429}, "whatsapp", "amber", "rate_limited"),
    ("whatsapp", {"revoked": True}, "whatsapp", "red", "http_error"),
    ("whatsapp", {"hang": True}, "whatsapp", "red", "timeout"),
    ("supabase_management", {"status": 502}, "supabase_management", "red", "http_error"),
    ("supabase_management", {"status": 429}, "supabase_management", "amber", "rate_limited"),
    ("supabase_management", {"revoked": True}, "supabase_management", "red", "http_error"),
    ("vercel", {"status": 500}, "vercel", "red", "http_error"),
    ("vercel", {"revoked": True}, "vercel", "red", "http_error"),
    ("vercel", {"status": 429, "retry_after": 1}, "vercel", "amber", "rate_limited"),
    ("pagerduty", {"status": 503}, "pagerduty", "red", "http_error"),
    ("pagerduty", {"revoked": True}, "pagerduty", "red", "http_error"),
    ("slack", {"revoked": True}, "slack", "red", "http_error"),
    ("slack", {"status": 429, "retry_after": 30}, "slack", "amber", "rate_limited"),
    ("slack", {"slack_error": "ratelimited"}, "slack", "amber", "rate_limited"),
    ("slack", {"status": 500}, "slack", "red", "http_error"),
]


def _probe(key):
    return next(p for p in probes.registered_probes() if p.key == key).func()


@pytest.mark.parametrize(("service", "fault", "key", "state", "reason"), FAULT_CASES)
def test_probe_state_for_fault(simulator, settings, service, fault, key, state, reason):
    settings.INTEGRATIONS_PROBE_TIMEOUT = 0.5
    simulator.set_fault(service, **fault)
    outcome = _probe(key)
    assert (outcome.state, outcome.reason) == (state, reason), outcome.detail


@pytest.mark.parametrize(
    "key", ["voucher_png", "whatsapp", "supabase_management", "vercel", "pagerduty", "slack"]
)
def test_probe_green_against_simulator(simulator, key):
    outcome = _probe(key)
    assert (outcome.state, outcome.reason) == ("green", "ok"), outcome.detail
    assert outcome.latency_ms is not None


@pytest.mark.parametrize(
    "key", ["voucher_png", "whatsapp", "supabase_management", "vercel", "pagerduty", "slack"]
)
def test_probe_unreachable_when_nothing_listens(simulator, key):
    simulator.stop()
    outcome = _probe(key)
    assert (outcome.state, outcome.reason) == ("red", "unreachable")


def test_slow_answer_is_amber(simulator, settings):
    settings.INTEGRATIONS_PROBE_SLOW_MS = 50
    simulator.set_fault("voucher_png", latency_ms=120)
    outcome = _probe("voucher_png")
    assert (outcome.state, outcome.reason) == ("amber", "slow")


def test_throttled_edge_function_is_amber_removed_is_red(simulator):
    simulator.set_function_status("send-whatsapp", "THROTTLED")
    assert _probe("supabase_management").state == "amber"
    simulator.set_function_status("voucher-png", "REMOVED")
    outcome = _probe("supabase_management")
    assert (outcome.state, outcome.reason) == ("red", "http_error")
    assert "voucher-png REMOVED" in outcome.detail


def test_pagerduty_with_only_a_routing_key_is_amber_not_verifiable_without_a_call(
    simulator, settings
):
    settings.PAGERDUTY_API_KEY = ""
    outcome = _probe("pagerduty")
    assert (outcome.state, outcome.reason) == ("amber", "not_verifiable")
    assert "configured, not verifiable" in outcome.detail
    assert simulator.calls("pagerduty") == [] and simulator.calls("pagerduty_events") == []


def test_pagerduty_with_a_rest_key_is_green_only_after_a_real_call(simulator):
    outcome = _probe("pagerduty")
    assert (outcome.state, outcome.reason) == ("green", "ok")
    assert [c["path"] for c in simulator.calls("pagerduty")] == ["/abilities"]


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("SUPABASE_FUNCTIONS_ENABLED", "voucher_png"),
        ("SUPABASE_FUNCTIONS_ENABLED", "whatsapp"),
        ("SUPABASE_MANAGEMENT_ENABLED", "supabase_management"),
        ("VERCEL_ENABLED", "vercel"),
        ("PAGERDUTY_ENABLED", "pagerduty"),
        ("SLACK_ENABLED", "slack"),
        ("SECRETS_MANAGER_ENABLED", "secrets_manager"),
    ],
)
def test_switched_off_is_not_configured(simulator, settings, setting, key):
    setattr(settings, setting, False)
    outcome = _probe(key)
    assert (outcome.state, outcome.reason) == ("red", "not_configured")


def test_secrets_manager_green_and_missing_secret_red(secrets_manager, settings):
    assert _probe("secrets_manager").state == "green"
    settings.SECRETS_MANAGER_PROBE_SECRET = "prod/does-not-exist"
    outcome = _probe("secrets_manager")
    assert (outcome.state, outcome.reason) == ("red", "http_error")
    assert "ResourceNotFoundException" in outcome.detail


def test_secrets_manager_unreachable(secrets_manager, settings):
    settings.AWS_SECRETS_ENDPOINT_URL = "http://127.0.0.1:9"
    outcome = _probe("secrets_manager")
    assert (outcome.state, outcome.reason) == ("red", "unreachable")


def test_unregistered_dispatcher_is_not_configured(probe_registry):
    probe_registry.register_probe(
        "campaign_dispatcher", probe_registry.probe_campaign_dispatcher_missing
    )
    outcome = _probe("campaign_dispatcher")
    assert (outcome.state, outcome.reason) == ("red", "not_configured")
