"""Planted credentials never show up in a response, a log line, an audit entry or a probe row."""

import logging

import pytest

from audit.models import AuditEntry
from integrations.clients.edge_functions import SendWhatsAppClient
from integrations.errors import IntegrationError
from integrations.models import ProbeResult

PLANTED = {
    "SUPABASE_FUNCTIONS_APIKEY": "sb_secret_PLANTEDfunctionsKEY0001",
    "SUPABASE_FUNCTIONS_JWT": "eyJPLANTEDheader0001.eyJPLANTEDpayload01.PLANTEDsignature0001",
    "SUPABASE_ACCESS_TOKEN": "sbp_PLANTEDaccessTOKEN0001",
    "VERCEL_TOKEN": "PLANTEDvercelTOKEN0001",
    "PAGERDUTY_API_KEY": "PLANTEDpagerdutyKEY0001",
    "PAGERDUTY_ROUTING_KEY": "PLANTEDroutingKEY0001",
    "SLACK_BOT_TOKEN": "xoxb-PLANTEDslackTOKEN0001",
}
FAULTS = [
    {},
    {"revoked": True},
    {"status": 503},
    {"status": 429, "retry_after": 3},
    {"hang": True},
]


@pytest.fixture
def planted(everything_up, settings):
    for name, value in PLANTED.items():
        setattr(settings, name, value)
    settings.INTEGRATIONS_PROBE_TIMEOUT = 0.5
    settings.INTEGRATIONS_READ_TIMEOUT = 0.5
    return everything_up


def _assert_clean(text: str, where: str):
    for name, value in PLANTED.items():
        assert value not in text, f"{name} leaked into {where}"


@pytest.mark.parametrize("fault", FAULTS)
def test_no_planted_secret_anywhere(planted, client_for, support_user, caplog, fault):
    caplog.set_level(logging.DEBUG)
    planted.set_fault("*", **fault)
    client = client_for(support_user)
    responses = [
        client.get("/api/integrations/status", {"force": "true"}),
        client.get("/admin/integrations/proberesult/"),
        client.post("/admin/integrations/proberesult/probe-now/", follow=True),
        client.get("/admin/"),
        client.get("/admin/vouchers/voucher/preview/", {"code": "V-1"}),
    ]
    # The simulator really received the planted credentials (so the test can fail).
    assert any(
        c["headers"].get("apikey") == PLANTED["SUPABASE_FUNCTIONS_APIKEY"]
        for c in planted.calls("voucher_png")
    )
    try:
        SendWhatsAppClient().send(
            to="+250788000001", template="t", variables={}, idempotency_key="leak-check"
        )
    except IntegrationError as exc:
        _assert_clean(repr(exc) + str(exc) + repr(vars(exc)), "an exception")
    for response in responses:
        _assert_clean(response.content.decode(errors="replace"), f"response {response}")
        _assert_clean(str(response.headers), "response headers")
    for record in caplog.records:
        _assert_clean(record.getMessage(), f"log line {record.name}")
    for entry in AuditEntry.objects.all():
        _assert_clean(str(entry.data) + entry.target_repr, "the audit log")
    for row in ProbeResult.objects.all():
        _assert_clean(row.detail + str(row.extra), "probe history")


def test_secret_values_are_not_logged_even_at_debug(secrets_manager, caplog):
    from integrations.clients.secrets_manager import SecretsManagerClient

    caplog.set_level(logging.DEBUG)
    client = SecretsManagerClient()
    client.put("prod/easymo/supabase/service-role", "sb_secret_PLANTEDrotatedKEY0002")
    assert (
        client.get_current("prod/easymo/supabase/service-role") == "sb_secret_PLANTEDrotatedKEY0002"
    )
    assert caplog.records  # debug logging is on and something was logged
    for record in caplog.records:
        assert "PLANTEDrotatedKEY" not in record.getMessage(), record.name
