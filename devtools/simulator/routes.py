"""What every simulated route shares: the request/response shapes, the switchable faults
answered with each vendor's documented error body, and the strict contract check.

Path prefixes keep the services apart on one port (server.PREFIXES):
  /functions/v1/<name>   our Edge Functions (SUPABASE_URL = <sim>)       routes_supabase
  /auth/v1/...           a project's Auth API (SUPABASE_PROJECT_URL_TEMPLATE = <sim>)
  /supabase/v1/...       Supabase Management API (SUPABASE_MANAGEMENT_URL = <sim>/supabase)
  /vercel/...            Vercel (VERCEL_API_URL = <sim>/vercel)          routes_vercel
  /pagerduty/...         PagerDuty REST (PAGERDUTY_API_URL = <sim>/pagerduty)   routes_saas
  /pagerduty-events/...  PagerDuty Events v2 (PAGERDUTY_EVENTS_URL = <sim>/pagerduty-events)
  /slack/api/...         Slack Web API (SLACK_API_URL = <sim>/slack/api)

Every route starts through `@simulated`: the service's switchable fault, then its
credential check, then the vendor's contract (integrations/contracts): a request the
vendor would refuse is answered exactly as the vendor documents (`refusal_for`), before
the handler ever sees it.
"""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.simulator.state import SimulatorState
from integrations.contracts.simulator import simulated_request_check


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, Any]  # a repeated parameter is a list, as the contracts read it
    headers: dict[str, str]
    body: Any  # parsed JSON; None when the request had no body
    fault: dict[str, Any] = field(default_factory=dict)  # this request's fault, for handlers


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list → JSON, bytes → as is, str → text/plain
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


# --- the vendors' documented error bodies -------------------------------------------------

# PagerDuty REST error codes (developer.pagerduty.com, "Errors").
PD_CODES = {
    400: (2001, "Invalid Input Provided"),
    401: (2006, "Invalid Credentials"),
    403: (2010, "Access Denied"),
    404: (2100, "Not Found"),
    429: (2020, "Rate Limit Exceeded"),
}
VERCEL_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}
EF_PLATFORM_CODES = {546: "WORKER_LIMIT", 503: "BOOT_ERROR"}


def pd_error(status: int, *errors: str, code: int | None = None) -> Response:
    known, message = PD_CODES.get(status, (2000, "Internal Error"))
    body: dict[str, Any] = {"code": code if code is not None else known, "message": message}
    if errors:
        body["errors"] = list(errors)
    return Response(status, {"error": body})


def vercel_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


def _revoked(service: str) -> Response:
    if service in ("voucher_png", "whatsapp"):
        return Response(401, {"msg": "Invalid JWT"}, {"sb-error-code": "UNAUTHORIZED_INVALID_JWT"})
    if service == "vercel":
        return Response(
            403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}
        )
    if service == "slack":
        return Response(200, {"ok": False, "error": "invalid_auth"})
    if service == "pagerduty":
        return pd_error(401)
    if service == "pagerduty_events":
        # No credential header: a deleted integration's routing key is an invalid event.
        return Response(
            400,
            {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": ["Invalid routing key"],
            },
        )
    return Response(401, {"message": "Invalid API key"})


def _status(service: str, status: int, retry_after: Any, code: Any) -> Response:
    """An HTTP error as the vendor sends it: its body, and its own rate-limit headers."""
    wait = int(retry_after) if retry_after is not None else 30
    if service == "slack":
        if status == 429:  # Slack documents Retry-After on every 429
            return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        return Response(status, {"ok": False, "error": code or "internal_error"})
    if service == "vercel":
        if status == 429:  # X-RateLimit-* headers and error.limit (epoch seconds), no Retry-After
            reset = int(time.time()) + wait
            limit = {"remaining": 0, "reset": reset, "total": 100}
            headers = {
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
            }
            body = {"error": {"code": "rate_limited", "message": "Rate limited", "limit": limit}}
            return Response(429, body, headers)
        default = "internal_server_error" if status >= 500 else VERCEL_CODES.get(status, "error")
        return vercel_error(status, code or default, "Simulated")
    if service == "pagerduty":
        answer = pd_error(status, code=int(code) if code else None)
        if status == 429:  # PagerDuty's rate-limit headers: seconds until the window resets
            answer.headers = {
                "ratelimit-limit": "960",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(wait),
            }
        return answer
    if service == "pagerduty_events":
        if status == 400:
            return Response(
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": []},
            )
        return Response(status, {"status": "throttled" if status == 429 else "error"})
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if service in ("voucher_png", "whatsapp"):
        if status >= 500 or code:
            headers["sb-error-code"] = code or EF_PLATFORM_CODES.get(
                status, "INTERNAL_SERVER_ERROR"
            )
        return Response(status, {"msg": f"Simulated HTTP {status}"}, headers)
    return Response(status, {"message": f"Simulated HTTP {status}"}, headers)


def common_fault(state: SimulatorState, service: str, fault: dict) -> Response | None:
    if fault.get("latency_ms"):
        time.sleep(fault["latency_ms"] / 1000)
    if fault.get("hang"):
        state.wait_hang(fault.get("hang_seconds", 60))
        return Response(504, {"message": "Simulated hang released"})
    if fault.get("revoked"):
        return _revoked(service)
    if fault.get("status"):
        return _status(
            service, int(fault["status"]), fault.get("retry_after"), fault.get("error_code")
        )
    if service == "slack" and fault.get("slack_error"):
        return Response(200, {"ok": False, "error": fault["slack_error"]})
    return None


# --- how every route starts -----------------------------------------------------------------

Route = Callable[[SimulatorState, Request], Response]
Credentials = Callable[[SimulatorState, Request], Response | None]


def bearer(prefix: str, refusal: Callable[[], Response]) -> Credentials:
    """Refuse a request whose Authorization header does not start with `prefix`."""

    def check(state: SimulatorState, req: Request) -> Response | None:
        if req.headers.get("authorization", "").startswith(prefix):
            return None
        return refusal()

    return check


def contract_refusal(service: str, req: Request) -> Response | None:
    """The vendor's documented answer when `req` breaks its contract, else None."""
    check = simulated_request_check(
        service,
        method=req.method,
        path=req.path,
        query=req.query,
        headers=req.headers,
        body=req.body,
    )
    if check.refusal is None:
        return None
    status, body = check.refusal
    return Response(status, body)


def simulated(
    service: str,
    *,
    credentials: Credentials | None = None,
    credentials_first: bool = False,
    recipient: Callable[[Request], str | None] | None = None,
) -> Callable[[Route], Route]:
    """How every route starts: the service's switchable fault (consumed either way), its
    credential check (`credentials_first`: the platform refuses before the fault, as the
    Edge Functions' gateway does), then the vendor's contract."""

    def wrap(handler: Route) -> Route:
        @functools.wraps(handler)
        def route(state: SimulatorState, req: Request) -> Response:
            fault = state.take_fault(service, recipient=recipient(req) if recipient else None)
            req.fault = fault  # what the handler itself simulates (WhatsApp codes, …)
            denied = credentials(state, req) if credentials else None
            if denied and credentials_first:
                return denied
            answer = common_fault(state, service, fault)
            if answer:
                return answer
            if denied:
                return denied
            refused = contract_refusal(service, req)
            if refused:
                return refused
            return handler(state, req)

        return route

    return wrap
