"""What each simulated service answers, in the shapes of external-apis.md and contracts.md.

Path prefixes keep the services apart on one port:
  /functions/v1/<name>   our Edge Functions (SUPABASE_URL = <sim>)
  /supabase/v1/...       Supabase Management API (SUPABASE_MANAGEMENT_URL = <sim>/supabase)
  /vercel/...            Vercel (VERCEL_API_URL = <sim>/vercel)
  /pagerduty/...         PagerDuty REST (PAGERDUTY_API_URL = <sim>/pagerduty)
  /pagerduty-events/...  PagerDuty Events v2 (PAGERDUTY_EVENTS_URL = <sim>/pagerduty-events)
  /slack/api/...         Slack Web API (SLACK_API_URL = <sim>/slack/api)
"""

import functools
import hashlib
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.simulator.state import SimulatorState

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SLACK_RATE_LIMIT_ERRORS = ("ratelimited", "rate_limited")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list → JSON, bytes → as is, str → text/plain
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def _wa_error(code: int | str, message: str = "Simulated WhatsApp error") -> dict:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": int(code),
            "error_data": {"details": message},
            "fbtrace_id": "SIMTRACE",
        }
    }


# --- faults shared by every service --------------------------------------------------


def _revoked(service: str) -> Response:
    if service in ("voucher_png", "whatsapp"):
        return Response(401, {"msg": "Invalid JWT"}, {"sb-error-code": "UNAUTHORIZED_INVALID_JWT"})
    if service == "vercel":
        return Response(
            403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}
        )
    if service == "slack":
        return Response(200, {"ok": False, "error": "invalid_auth"})
    if service in ("pagerduty", "pagerduty_events"):
        return Response(401, {"error": {"code": 2006, "message": "Invalid Credentials"}})
    return Response(401, {"message": "Unauthorized"})


def _status(service: str, status: int, retry_after: Any) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if service == "slack" and status == 429:
        return Response(429, {"ok": False, "error": "ratelimited"}, headers)
    if service == "vercel":
        code = (
            "rate_limited"
            if status == 429
            else ("internal_server_error" if status >= 500 else "bad_request")
        )
        return Response(status, {"error": {"code": code, "message": "Simulated"}}, headers)
    if service in ("voucher_png", "whatsapp") and status >= 500:
        headers["sb-error-code"] = {546: "WORKER_LIMIT", 503: "BOOT_ERROR"}.get(
            status, "INTERNAL_SERVER_ERROR"
        )
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
        return _status(service, int(fault["status"]), fault.get("retry_after"))
    if service == "slack" and fault.get("slack_error"):
        return Response(200, {"ok": False, "error": fault["slack_error"]})
    return None


Route = Callable[[SimulatorState, Request], Response]


def simulated(
    service: str, *, auth: str | None = None, refused: Callable[[], Response] | None = None
) -> Callable[[Route], Route]:
    """How every SaaS route starts: the service's switchable fault, then (when `auth` is
    given) its refusal of a request whose Authorization header does not start with it."""

    def wrap(handler: Route) -> Route:
        @functools.wraps(handler)
        def route(state: SimulatorState, req: Request) -> Response:
            answer = common_fault(state, service, state.take_fault(service))
            if answer:
                return answer
            if auth is not None and not req.headers.get("authorization", "").startswith(auth):
                return refused()
            return handler(state, req)

        return route

    return wrap


# --- our Edge Functions ---------------------------------------------------------------


def _needs_key(req: Request) -> Response | None:
    if not req.headers.get("authorization") and not req.headers.get("apikey"):
        return Response(
            401,
            {"msg": "Missing authorization header"},
            {"sb-error-code": "UNAUTHORIZED_NO_AUTH_HEADER"},
        )
    return None


def render_png(code: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 140), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([4, 4, 355, 135], outline="black", width=3)
    draw.text((20, 30), "VOUCHER (simulated)", fill="black")
    draw.text((20, 70), code[:40], fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def voucher_png(state: SimulatorState, req: Request) -> Response:
    denied = _needs_key(req)
    fault = state.take_fault("voucher_png")
    answer = denied or common_fault(state, "voucher_png", fault)
    if answer:
        return answer
    if req.method != "POST":
        return Response(405, {"error": "method_not_allowed"})
    code = req.body.get("code") if isinstance(req.body, dict) else None
    if not isinstance(code, str) or not code:
        return Response(400, {"error": "invalid_request"})
    return Response(200, render_png(code), content_type="image/png")


def send_whatsapp(state: SimulatorState, req: Request) -> Response:
    body = req.body if isinstance(req.body, dict) else {}
    to = body.get("to") if isinstance(body.get("to"), str) else None
    denied = _needs_key(req)
    fault = state.take_fault("whatsapp", recipient=to)
    answer = denied or common_fault(state, "whatsapp", fault)
    if answer:
        return answer
    if req.method != "POST":
        return Response(405, {"error": "method_not_allowed"})
    key, template = body.get("idempotency_key"), body.get("template")
    if not to or not isinstance(key, str) or not key or not isinstance(template, str):
        return Response(400, {"error": "invalid_request"})
    if key in state.sends:
        message_id, _ = state.send_once(key=key, to=to, template=template)
        return Response(202, {"message_id": message_id})
    invalid = fault.get("invalid_numbers") or []
    if not E164.match(to) or "*" in invalid or to in invalid:
        if fault.get("invalid_mode") == "131026":
            return Response(400, _wa_error(131026, "Message undeliverable"))
        return Response(422, {"error": "invalid_number"})
    if fault.get("wa_code"):
        headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
        return Response(int(fault.get("wa_status", 400)), _wa_error(fault["wa_code"]), headers)
    message_id, _ = state.send_once(key=key, to=to, template=template)
    return Response(202, {"message_id": message_id})


# --- Supabase Management API ------------------------------------------------------------

FUNCTION_SLUGS = ("voucher-png", "send-whatsapp")


def _function(state: SimulatorState, slug: str) -> dict:
    return {
        "id": f"fn-{slug}",
        "slug": slug,
        "name": slug,
        "status": state.function_status.get(slug, "ACTIVE"),
        "version": 3,
        "created_at": 1764547200000,
        "updated_at": 1764547200000,
    }


@simulated(
    "supabase_management",
    auth="Bearer ",
    refused=lambda: Response(401, {"message": "Unauthorized"}),
)
def supabase_management(state: SimulatorState, req: Request) -> Response:
    parts = req.path.strip("/").split("/")  # v1 projects {ref} ...
    if len(parts) < 4 or parts[:2] != ["v1", "projects"]:
        return Response(404, {"message": "Not found"})
    rest, method = parts[3:], req.method
    if rest == ["functions"] and method == "GET":
        return Response(200, [_function(state, s) for s in FUNCTION_SLUGS])
    if len(rest) == 2 and rest[0] == "functions" and method == "GET":
        if rest[1] not in FUNCTION_SLUGS:
            return Response(404, {"message": "Function not found"})
        return Response(200, _function(state, rest[1]))
    if rest == ["secrets"]:
        return _secrets(state, req)
    if rest == ["api-keys", "legacy"] and method == "PUT":
        state.legacy_keys_enabled = req.query.get("enabled", "true") == "true"
        return Response(200, {"enabled": state.legacy_keys_enabled})
    if rest == ["api-keys"] and method == "POST":
        body = req.body if isinstance(req.body, dict) else {}
        name, kind = body.get("name", ""), body.get("type")
        if kind not in ("secret", "publishable") or not re.fullmatch(r"[a-z_][a-z0-9_]+", name):
            return Response(400, {"message": "Invalid api key request"})
        key_id = state.next_id("key-")
        prefix = "sb_secret_" if kind == "secret" else "sb_publishable_"
        secret = prefix + hashlib.sha256(key_id.encode()).hexdigest()[:32]
        state.api_keys[key_id] = {"id": key_id, "name": name, "type": kind, "api_key": secret}
        return Response(201, state.api_keys[key_id])
    if len(rest) == 2 and rest[0] == "api-keys" and method == "DELETE":
        key = state.api_keys.pop(rest[1], None)
        if key is None:
            return Response(404, {"message": "API key not found"})
        return Response(200, {k: v for k, v in key.items() if k != "api_key"})
    return Response(404, {"message": "Not found"})


def _secrets(state: SimulatorState, req: Request) -> Response:
    if req.method == "GET":
        return Response(
            200,
            [
                {"name": n, "value": hashlib.sha256(v.encode()).hexdigest()}
                for n, v in sorted(state.secrets.items())
            ],
        )
    if req.method == "POST":
        items = req.body if isinstance(req.body, list) else None
        if not items or any(not isinstance(i, dict) or not i.get("name") for i in items):
            return Response(400, {"message": "Invalid secrets"})
        if any(str(i["name"]).startswith("SUPABASE_") for i in items):
            return Response(400, {"message": "Secret names must not start with SUPABASE_"})
        for item in items:
            state.secrets[item["name"]] = str(item.get("value", ""))
        return Response(201, {})
    if req.method == "DELETE":
        names = req.body if isinstance(req.body, list) else []
        for name in names:
            state.secrets.pop(name, None)
        return Response(200, {})
    return Response(405, {"message": "Method not allowed"})


# --- a project's Auth Admin API: which service-role keys does the project accept? ---------


@simulated("supabase_auth")
def supabase_auth(state: SimulatorState, req: Request) -> Response:
    """`sb_secret_…` keys work while they exist in `api_keys`; legacy JWTs while legacy
    keys are enabled; anything else is refused, like a revoked key."""
    key = req.headers.get("apikey", "")
    if key.startswith("sb_secret_"):
        valid = any(k.get("api_key") == key for k in list(state.api_keys.values()))
    elif key.startswith("eyJ"):
        valid = state.legacy_keys_enabled
    else:
        valid = False
    if not valid:
        return Response(401, {"message": "Invalid API key"})
    if req.path.rstrip("/") != "/admin/users" or req.method != "GET":
        return Response(404, {"message": "Not found"})
    return Response(200, {"users": [], "aud": "authenticated"})
