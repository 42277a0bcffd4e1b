"""The fault matrix driven through the strict simulator's switches (`POST /_control/faults`):
per vendor, each documented failure — no answer in time, 5xx, 429 and its rate-limit
header, refused credentials, each documented error body — as the simulator sends it, the
typed error the client makes of it, and (per vendor) what the status API and page show
until the fault is switched off again. test_fault_matrix.py has the same answers from respx.
"""

import re

import httpx
import pytest

from integrations.clients.edge_functions import SendWhatsAppClient, VoucherPngClient
from integrations.clients.pagerduty import PagerDutyEventsClient, PagerDutyRestClient
from integrations.clients.slack import SlackClient
from integrations.clients.supabase_admin import SupabaseAdminProbe
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.clients.vercel import VercelClient
from integrations.errors import RateLimited, Rejected, Timeout, Unavailable
from tests.integrations.test_fault_matrix import assert_typed

CALLS = {
    "supabase_management": lambda: SupabaseManagementClient().functions(),
    "supabase_auth": lambda: SupabaseAdminProbe(project_ref="opsportaldemoproject").key_accepted(
        "sb_secret_unknown0000"
    ),
    "voucher_png": lambda: VoucherPngClient().render(code="V1"),
    "whatsapp": lambda: SendWhatsAppClient().send(
        to="+250788000001", template="promo", variables={}, idempotency_key="fm-1"
    ),
    "vercel": lambda: VercelClient().project_get(),
    "pagerduty": lambda: PagerDutyRestClient().incident_resolve("PSIM0001"),
    "pagerduty_events": lambda: PagerDutyEventsClient().trigger(summary="s", source="opsportal"),
    "slack": lambda: SlackClient().post_message(text="Voucher previews unavailable"),
}

# (service, what, fault, error, status, code, retry_after)
# fmt: off
MATRIX = [
    *[(s, "no answer in time", {"hang": True}, Timeout, None, "", None) for s in CALLS],
    ("supabase_management", "500", {"status": 500}, Unavailable, 500, "", None),
    ("supabase_management", "401", {"revoked": True}, Rejected, 401, "401", None),
    ("supabase_management", "403", {"status": 403}, Rejected, 403, "403", None),
    ("supabase_management", "429", {"status": 429, "retry_after": 9}, RateLimited, 429, "429", 9.0),
    ("supabase_auth", "503", {"status": 503}, Unavailable, 503, "", None),
    ("supabase_auth", "429", {"status": 429, "retry_after": 4}, RateLimited, 429, "429", 4.0),
    ("voucher_png", "401", {"revoked": True}, Rejected, 401, "401", None),
    ("voucher_png", "404", {"status": 404, "error_code": "NOT_FOUND"}, Rejected, 404, "NOT_FOUND", None),
    ("voucher_png", "546", {"status": 546}, Unavailable, 546, "WORKER_LIMIT", None),
    ("voucher_png", "503", {"status": 503}, Unavailable, 503, "BOOT_ERROR", None),
    ("voucher_png", "429", {"status": 429, "retry_after": 2}, RateLimited, 429, "429", 2.0),
    ("whatsapp", "429 throughput", {"wa_code": 130429, "wa_status": 429, "retry_after": 2}, RateLimited, 429, "130429", 2.0),
    ("whatsapp", "400 throughput", {"wa_code": 130429}, RateLimited, 400, "130429", None),
    ("whatsapp", "same recipient", {"wa_code": 131056, "retry_after": 6}, RateLimited, 400, "131056", 6.0),
    ("whatsapp", "undeliverable", {"invalid_numbers": "*", "invalid_mode": "131026"}, Rejected, 400, "131026", None),
    ("whatsapp", "invalid number", {"invalid_numbers": "*"}, Rejected, 422, "invalid_number", None),
    ("whatsapp", "500", {"status": 500}, Unavailable, 500, "INTERNAL_SERVER_ERROR", None),
    ("vercel", "403", {"revoked": True}, Rejected, 403, "forbidden", None),
    ("vercel", "400", {"status": 400}, Rejected, 400, "bad_request", None),
    ("vercel", "404", {"status": 404}, Rejected, 404, "not_found", None),
    ("vercel", "429", {"status": 429, "retry_after": 10}, RateLimited, 429, "rate_limited", 10.0),
    ("vercel", "500", {"status": 500}, Unavailable, 500, "internal_server_error", None),
    ("pagerduty", "400", {"status": 400}, Rejected, 400, "2001", None),
    ("pagerduty", "401", {"revoked": True}, Rejected, 401, "2006", None),
    ("pagerduty", "403", {"status": 403}, Rejected, 403, "2010", None),
    ("pagerduty", "404", {"status": 404}, Rejected, 404, "2100", None),
    ("pagerduty", "429", {"status": 429, "retry_after": 12}, RateLimited, 429, "2020", 12.0),
    ("pagerduty", "500", {"status": 500}, Unavailable, 500, "2000", None),
    ("pagerduty_events", "400", {"status": 400}, Rejected, 400, "invalid_event", None),
    ("pagerduty_events", "routing key gone", {"revoked": True}, Rejected, 400, "invalid_event", None),
    ("pagerduty_events", "429", {"status": 429}, RateLimited, 429, "throttled", None),
    ("pagerduty_events", "502", {"status": 502}, Unavailable, 502, "error", None),
    ("slack", "invalid_auth", {"revoked": True}, Rejected, 200, "invalid_auth", None),
    ("slack", "channel_not_found", {"slack_error": "channel_not_found"}, Rejected, 200, "channel_not_found", None),
    ("slack", "ratelimited in 200", {"slack_error": "ratelimited"}, RateLimited, 200, "ratelimited", None),
    ("slack", "429", {"status": 429, "retry_after": 30}, RateLimited, 429, "ratelimited", 30.0),
    ("slack", "internal_error", {"slack_error": "internal_error"}, Unavailable, 200, "internal_error", None),
    ("slack", "503", {"status": 503}, Unavailable, 503, "internal_error", None),
]
# fmt: on


def switch(simulator, service: str, **fault) -> None:
    """The simulator's fault switch, over HTTP as an operator would flip it."""
    answer = httpx.post(
        f"{simulator.url}/_control/faults", json={"service": service, **fault}, trust_env=False
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("service", "what", "fault", "error", "status", "code", "retry_after"),
    MATRIX,
    ids=[f"{row[0]}-{row[1]}" for row in MATRIX],
)
def test_fault_maps_to_typed_error(
    simulator, settings, service, what, fault, error, status, code, retry_after
):
    settings.INTEGRATIONS_READ_TIMEOUT = 0.3
    switch(simulator, service, **fault)
    with pytest.raises(error) as exc:
        CALLS[service]()
    assert_typed(exc.value, status=status, code=code, retry_after=retry_after)
    assert "sim-" not in str(exc.value)  # no credential in the message


def test_the_project_refusing_a_key_is_an_answer_not_an_error(simulator):
    switch(simulator, "supabase_auth", revoked=True)
    assert CALLS["supabase_auth"]() is False


# --- what the status API and page show, per vendor ------------------------------------------

# (probe key, simulator service, fault, state, reason, detail shown)
STATUS = [
    ("voucher_png", "voucher_png", {"status": 546}, "red", "http_error", "HTTP 546 (WORKER_LIMIT)"),
    ("whatsapp", "whatsapp", {"hang": True}, "red", "timeout", "no answer within 0.5 s"),
    (
        "supabase_management",
        "supabase_management",
        {"status": 429, "retry_after": 9},
        "amber",
        "rate_limited",
        "rate limited (code 429), retry after 9 s",
    ),
    ("vercel", "vercel", {"revoked": True}, "red", "http_error", "HTTP 403 (forbidden)"),
    (
        "pagerduty",
        "pagerduty",
        {"status": 429, "retry_after": 12},
        "amber",
        "rate_limited",
        "rate limited (code 2020), retry after 12 s",
    ),
    ("slack", "slack", {"revoked": True}, "red", "http_error", "HTTP 200 (invalid_auth)"),
]


def _tile(html: str, key: str) -> str:
    """The status tile of `key` (a degraded banner names the integration too)."""
    start = html.index(f'data-integration="{key}" data-state=')
    following = html.find('class="integration-tile', start)
    return html[start : following if following > 0 else len(html)]


@pytest.mark.parametrize(
    ("key", "service", "fault", "state", "reason", "detail"),
    STATUS,
    ids=[row[0] for row in STATUS],
)
def test_status_api_and_page_show_the_fault_then_green(
    everything_up, client_for, support_user, settings, key, service, fault, state, reason, detail
):
    settings.INTEGRATIONS_PROBE_TIMEOUT = 0.5
    client = client_for(support_user)
    switch(everything_up, service, **fault)

    payload = client.get("/api/integrations/status", {"force": "true"}).json()
    item = next(i for i in payload["integrations"] if i["key"] == key)
    assert (item["state"], item["reason"], item["detail"]) == (state, reason, detail)
    assert payload["overall"] in (state, "red")
    tile = _tile(client.get("/admin/integrations/proberesult/").content.decode(), key)
    assert f'data-state="{state}"' in tile
    assert re.search(rf'class="reason">\s*{reason}\s*<', tile)
    assert detail in tile

    httpx.post(f"{everything_up.url}/_control/faults", json={"faults": {}}, trust_env=False)
    client.post("/admin/integrations/proberesult/probe-now/")  # "Probe now", as support
    tile = _tile(client.get("/admin/integrations/proberesult/").content.decode(), key)
    assert 'data-state="green"' in tile
    payload = client.get("/api/integrations/status").json()
    assert next(i for i in payload["integrations"] if i["key"] == key)["state"] == "green"
