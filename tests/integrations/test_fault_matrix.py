"""Each vendor's documented failures map to our typed errors (the fault matrix).

Every answer below is one the vendor documents: the suite-wide contract check
(tests/vendor_contracts.py) validates each of them, and each request the client sends.
"""

import time

import httpx
import pytest

from integrations.clients.edge_functions import SendWhatsAppClient, VoucherPngClient
from integrations.clients.pagerduty import PagerDutyEventsClient, PagerDutyRestClient
from integrations.clients.slack import SlackClient
from integrations.clients.supabase_admin import SupabaseAdminProbe
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.clients.vercel import VercelClient
from integrations.errors import RateLimited, Rejected, Timeout, Unavailable
from tests.integrations.conftest import PROJECT_REF


def assert_typed(error, *, status, code, retry_after) -> None:
    """The typed error carries the status, the vendor's code and (429) the Retry-After."""
    assert error.status == status
    if code:
        assert error.code == code
    if isinstance(error, RateLimited):
        if retry_after is None:
            assert error.retry_after is None
        else:
            assert error.retry_after == pytest.approx(retry_after, abs=1.5)


FUNCTIONS = f"https://{PROJECT_REF}.supabase.co/functions/v1"

# vendor → (method, URL, the client call)
CALLS = {
    "supabase_management": (
        "GET",
        f"https://api.supabase.com/v1/projects/{PROJECT_REF}/functions",
        lambda: SupabaseManagementClient().functions(),
    ),
    "supabase_auth": (
        "GET",
        f"https://{PROJECT_REF}.supabase.co/auth/v1/admin/users",
        lambda: SupabaseAdminProbe(project_ref=PROJECT_REF).key_accepted("sb_secret_test"),
    ),
    "voucher_png": (
        "POST",
        f"{FUNCTIONS}/voucher-png",
        lambda: VoucherPngClient().render(code="V1"),
    ),
    "whatsapp": (
        "POST",
        f"{FUNCTIONS}/send-whatsapp",
        lambda: SendWhatsAppClient().send(
            to="+250788000001", template="promo", variables={}, idempotency_key="k1"
        ),
    ),
    "vercel": (
        "GET",
        "https://api.vercel.com/v9/projects/station-web",
        lambda: VercelClient().project_get(),
    ),
    "pagerduty_rest": (
        "PUT",
        "https://api.pagerduty.com/incidents/PINC1",
        lambda: PagerDutyRestClient().incident_resolve("PINC1"),
    ),
    "pagerduty_events": (
        "POST",
        "https://events.pagerduty.com/v2/enqueue",
        lambda: PagerDutyEventsClient().trigger(summary="Voucher PNG red", source="opsportal"),
    ),
    "slack": (
        "POST",
        "https://slack.com/api/chat.postMessage",
        lambda: SlackClient().post_message(text="Voucher previews unavailable"),
    ),
}


def answer(status: int, body=None, **headers: str) -> httpx.Response:
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def vercel_error(code: str, **extra) -> dict:
    return {"error": {"code": code, "message": "Simulated", **extra}}


def pd_error(code: int, message: str) -> dict:
    return {"error": {"code": code, "message": message, "errors": [message]}}


def wa_error(code: int) -> dict:
    return {"error": {"code": code, "message": "WhatsApp said no", "type": "OAuthException"}}


IN_TEN_SECONDS = "IN_TEN_SECONDS_PLACEHOLDER"  # an epoch-seconds reset ten seconds from now

# (vendor, what, the answer or the exception, expected class, status, code, retry_after)
# fmt: off
MATRIX = [
    # every vendor: no answer in time, no connection, a 5xx
    *[(v, "timeout", httpx.ReadTimeout("slow"), Timeout, None, "", None) for v in CALLS],
    *[(v, "no connection", httpx.ConnectError("refused"), Unavailable, None, "", None) for v in CALLS],
    *[(v, "500", answer(500), Unavailable, 500, "", None) for v in CALLS if v != "vercel"],
    # Supabase Management: no documented error body; 401/403/429 on every call
    ("supabase_management", "401", answer(401, {"message": "Unauthorized"}), Rejected, 401, "401", None),
    ("supabase_management", "403", answer(403, {"message": "Forbidden"}), Rejected, 403, "403", None),
    ("supabase_management", "429", answer(429, {"message": "Rate limit exceeded"}, Retry_After="9"), RateLimited, 429, "429", 9.0),
    # a project's Auth API: the probe's own answers (401/403 mean "key refused", not errors)
    ("supabase_auth", "429", answer(429, {"message": "Too many requests"}, Retry_After="4"), RateLimited, 429, "429", 4.0),
    # Edge Functions: platform errors name their cause in sb-error-code
    ("voucher_png", "401", answer(401, {"msg": "Invalid JWT"}, sb_error_code="UNAUTHORIZED_INVALID_JWT"), Rejected, 401, "401", None),
    ("voucher_png", "404", answer(404, {"msg": "Function not found"}, sb_error_code="NOT_FOUND"), Rejected, 404, "NOT_FOUND", None),
    ("voucher_png", "546", answer(546, {"msg": "Worker limit"}, sb_error_code="WORKER_LIMIT"), Unavailable, 546, "WORKER_LIMIT", None),
    ("voucher_png", "503", answer(503, {"msg": "Boot error"}, sb_error_code="BOOT_ERROR"), Unavailable, 503, "BOOT_ERROR", None),
    ("whatsapp", "429 throughput", answer(429, wa_error(130429), Retry_After="2"), RateLimited, 429, "130429", 2.0),
    ("whatsapp", "400 throughput", answer(400, wa_error(130429)), RateLimited, 400, "130429", None),
    ("whatsapp", "same recipient", answer(400, wa_error(131056), Retry_After="6"), RateLimited, 400, "131056", 6.0),
    ("whatsapp", "undeliverable", answer(400, wa_error(131026)), Rejected, 400, "131026", None),
    ("whatsapp", "invalid number", answer(422, {"error": "invalid_number"}), Rejected, 422, "invalid_number", None),
    ("whatsapp", "bad request", answer(400, {"error": "invalid_request"}), Rejected, 400, "invalid_request", None),
    # Vercel: {"error": {"code", "message"}} on every failure (rest-api/errors)
    ("vercel", "403", answer(403, vercel_error("forbidden", invalidToken=True)), Rejected, 403, "forbidden", None),
    ("vercel", "400", answer(400, vercel_error("bad_request")), Rejected, 400, "bad_request", None),
    ("vercel", "404", answer(404, vercel_error("not_found")), Rejected, 404, "not_found", None),
    ("vercel", "429 Retry-After", answer(429, vercel_error("rate_limited"), Retry_After="3"), RateLimited, 429, "rate_limited", 3.0),
    ("vercel", "429 reset header", answer(429, vercel_error("rate_limited"), X_RateLimit_Reset=IN_TEN_SECONDS), RateLimited, 429, "rate_limited", 10.0),
    ("vercel", "429 body reset", answer(429, vercel_error("rate_limited", limit={"remaining": 0, "reset": IN_TEN_SECONDS, "total": 6})), RateLimited, 429, "rate_limited", 10.0),
    ("vercel", "500", answer(500, vercel_error("internal_server_error")), Unavailable, 500, "internal_server_error", None),
    # PagerDuty REST: {"error": {"code", "message", "errors"}}; ratelimit-reset in seconds
    ("pagerduty_rest", "400", answer(400, pd_error(2001, "Invalid Input Provided")), Rejected, 400, "2001", None),
    ("pagerduty_rest", "401", answer(401, pd_error(2006, "Invalid Credentials")), Rejected, 401, "2006", None),
    ("pagerduty_rest", "403", answer(403, pd_error(2010, "Access Denied")), Rejected, 403, "2010", None),
    ("pagerduty_rest", "404", answer(404, pd_error(2100, "Not Found")), Rejected, 404, "2100", None),
    ("pagerduty_rest", "429", answer(429, pd_error(2020, "Rate Limit Exceeded"), ratelimit_reset="12"), RateLimited, 429, "2020", 12.0),
    # PagerDuty Events v2: {"status", "message", "errors"}
    ("pagerduty_events", "400", answer(400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["'payload' is missing"]}), Rejected, 400, "invalid_event", None),
    ("pagerduty_events", "429", answer(429), RateLimited, 429, "429", None),
    # Slack: most failures are HTTP 200 {"ok": false}; throttling is 429 + Retry-After
    ("slack", "invalid_auth", answer(200, {"ok": False, "error": "invalid_auth"}), Rejected, 200, "invalid_auth", None),
    ("slack", "channel_not_found", answer(200, {"ok": False, "error": "channel_not_found"}), Rejected, 200, "channel_not_found", None),
    ("slack", "ratelimited in 200", answer(200, {"ok": False, "error": "ratelimited"}), RateLimited, 200, "ratelimited", None),
    ("slack", "rate_limited in 200", answer(200, {"ok": False, "error": "rate_limited"}), RateLimited, 200, "rate_limited", None),
    ("slack", "429", answer(429, {"ok": False, "error": "ratelimited"}, Retry_After="30"), RateLimited, 429, "ratelimited", 30.0),
    ("slack", "internal_error", answer(200, {"ok": False, "error": "internal_error"}), Unavailable, 200, "internal_error", None),
]
# fmt: on


def _resolve_reset(response):
    """Put a real 'ten seconds from now' where the matrix says IN_TEN_SECONDS."""
    if not isinstance(response, httpx.Response):
        return response
    reset = str(int(time.time()) + 10)
    headers = {k: (reset if v == IN_TEN_SECONDS else v) for k, v in response.headers.items()}
    body = response.content.replace(f'"{IN_TEN_SECONDS}"'.encode(), reset.encode())
    return httpx.Response(response.status_code, headers=headers, content=body)


@pytest.mark.parametrize(
    ("vendor", "what", "reply", "error", "status", "code", "retry_after"),
    MATRIX,
    ids=[f"{row[0]}-{row[1]}" for row in MATRIX],
)
def test_fault_maps_to_typed_error(
    vendor_urls, respx_mock, vendor, what, reply, error, status, code, retry_after
):
    method, url, call = CALLS[vendor]
    respx_mock.request(method, url).mock(side_effect=[_resolve_reset(reply)] * 2)
    with pytest.raises(error) as exc:
        call()
    assert exc.value.service in (vendor.split("_")[0], vendor)
    assert_typed(exc.value, status=status, code=code, retry_after=retry_after)
    assert "test-" not in str(exc.value) and "sb_secret" not in str(exc.value)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_probe_reads_refusal_as_key_not_accepted(vendor_urls, respx_mock, status):
    _, url, call = CALLS["supabase_auth"]
    respx_mock.get(url).respond(status, json={"message": "Invalid API key"})
    assert call() is False


def test_auth_probe_accepts_a_working_key(vendor_urls, respx_mock):
    _, url, call = CALLS["supabase_auth"]
    route = respx_mock.get(url).respond(200, json={"users": [], "aud": "authenticated"})
    assert call() is True
    sent = route.calls.last.request
    assert sent.headers["apikey"] == "sb_secret_test"
    assert "authorization" not in sent.headers  # a new secret key is not a JWT
    assert dict(sent.url.params) == {"page": "1", "per_page": "1"}
