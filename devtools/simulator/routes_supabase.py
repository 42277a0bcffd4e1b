"""Simulated Supabase: our Edge Functions, the Management API and a project's Auth API.

Not modelled: projects. Any well-formed project ref (20 lowercase letters) is accepted and
every project shares one set of functions, secrets and API keys.
"""

import hashlib
import io
import re

from devtools.simulator.routes import Request, Response, simulated
from devtools.simulator.state import SimulatorState

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
FUNCTION_SLUGS = ("voucher-png", "send-whatsapp")


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


# --- our Edge Functions ---------------------------------------------------------------


def _function_key(state: SimulatorState, req: Request) -> Response | None:
    """The platform refuses a call without any key before the function runs."""
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


def _not_post(req: Request) -> Response | None:
    # The contract knows a GET as the probe: the deployed function answers it with 405.
    return Response(405, {"error": "method_not_allowed"}) if req.method != "POST" else None


@simulated("voucher_png", credentials=_function_key, credentials_first=True)
def voucher_png(state: SimulatorState, req: Request) -> Response:
    return _not_post(req) or Response(200, render_png(req.body["code"]), content_type="image/png")


def _recipient(req: Request) -> str | None:
    to = req.body.get("to") if isinstance(req.body, dict) else None
    return to if isinstance(to, str) else None


@simulated("whatsapp", credentials=_function_key, credentials_first=True, recipient=_recipient)
def send_whatsapp(state: SimulatorState, req: Request) -> Response:
    not_post = _not_post(req)
    if not_post:
        return not_post
    body, fault = req.body, req.fault
    to, key, template = body["to"], body["idempotency_key"], body["template"]
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


def _management_token(state: SimulatorState, req: Request) -> Response | None:
    if req.headers.get("authorization", "").startswith("Bearer "):
        return None
    return Response(401, {"message": "Unauthorized"})


@simulated("supabase_management", credentials=_management_token)
def supabase_management(state: SimulatorState, req: Request) -> Response:
    rest, method = req.path.strip("/").split("/")[3:], req.method  # v1 projects {ref} …
    if rest == ["functions"]:
        return Response(200, [_function(state, s) for s in FUNCTION_SLUGS])
    if rest[0] == "functions":
        if rest[1] not in FUNCTION_SLUGS:
            return Response(404, {"message": "Function not found"})
        return Response(200, _function(state, rest[1]))
    if rest == ["secrets"]:
        return _secrets(state, req)
    if rest == ["api-keys", "legacy"]:
        state.legacy_keys_enabled = req.query["enabled"] == "true"
        return Response(200, {"enabled": state.legacy_keys_enabled})
    if rest == ["api-keys"] and method == "POST":
        return _api_key_create(state, req)
    key = state.api_keys.pop(rest[1], None)  # DELETE …/api-keys/{id}
    if key is None:
        return Response(404, {"message": "API key not found"})
    return Response(200, {k: v for k, v in key.items() if k != "api_key"})


def _api_key_create(state: SimulatorState, req: Request) -> Response:
    key_id, kind = state.next_uuid(), req.body["type"]
    prefix = "sb_secret_" if kind == "secret" else "sb_publishable_"
    secret = prefix + hashlib.sha256(key_id.encode()).hexdigest()[:32]
    record = {"id": key_id, "name": req.body["name"], "type": kind, "api_key": secret}
    state.api_keys[key_id] = record
    if req.query.get("reveal") == "true" or kind == "publishable":
        return Response(201, record)
    return Response(201, {**record, "api_key": secret[:14] + "·" * 8})  # masked, as documented


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
        for item in req.body:
            state.secrets[item["name"]] = item["value"]
        return Response(201, {})
    for name in req.body:  # DELETE
        state.secrets.pop(name, None)
    return Response(200, {})


# --- a project's Auth Admin API: which service-role keys does the project accept? ---------


def _project_key(state: SimulatorState, req: Request) -> Response | None:
    """`sb_secret_…` keys work while they exist in `api_keys`; legacy JWTs while legacy
    keys are enabled; anything else is refused by the gateway, like a revoked key."""
    key = req.headers.get("apikey", "")
    if key.startswith("sb_secret_"):
        valid = any(k.get("api_key") == key for k in list(state.api_keys.values()))
    elif key.startswith("eyJ"):
        valid = state.legacy_keys_enabled
    else:
        valid = False
    return None if valid else Response(401, {"message": "Invalid API key"})


@simulated("supabase_auth", credentials=_project_key)
def supabase_auth(state: SimulatorState, req: Request) -> Response:
    return Response(200, {"users": [], "aud": "authenticated"})
