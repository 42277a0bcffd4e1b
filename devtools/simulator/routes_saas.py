"""Simulated Vercel, PagerDuty (REST + Events v2) and Slack (external-apis.md)."""

from devtools.simulator.routes import Request, Response, simulated
from devtools.simulator.state import SimulatorState

PD_SEVERITIES = ("critical", "error", "warning", "info")
# Who the simulated PagerDuty says is on call (GET /oncalls), first level first.
SIM_ONCALLS = [
    {
        "user": {"id": f"PUSER0{level}", "summary": name, "html_url": f"https://sim/users/{level}"},
        "escalation_policy": {"id": "PSIMEP1"},
        "escalation_level": level,
        "start": None,
        "end": None,
    }
    for level, name in ((1, "Ada Oncall"), (2, "Ben Backup"))
]
VERCEL_TARGETS = {"production", "preview", "development"}
VERCEL_TYPES = {"encrypted", "sensitive", "plain", "system"}


def _vercel_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


@simulated(
    "vercel", auth="Bearer ", refused=lambda: _vercel_error(403, "forbidden", "Not authorized")
)
def vercel(state: SimulatorState, req: Request) -> Response:
    parts, method = req.path.strip("/").split("/"), req.method
    if parts[:2] == ["v9", "projects"] and len(parts) == 3 and method == "GET":
        return Response(200, {"id": f"prj_{parts[2]}", "name": parts[2]})
    if parts[:2] == ["v10", "projects"] and parts[3:] == ["env"]:
        if method == "GET":
            return Response(
                200,
                {
                    "envs": [
                        {k: v for k, v in e.items() if k != "value"}
                        for e in state.vercel_env.values()
                    ]
                },
            )
        if method == "POST":
            return _vercel_upsert(state, req)
    if parts[:2] == ["v9", "projects"] and len(parts) == 5 and parts[3] == "env":
        env = state.vercel_env.get(parts[4])
        if env is None:
            return _vercel_error(404, "not_found", "Environment variable not found")
        if method == "DELETE":
            del state.vercel_env[parts[4]]
            return Response(200, {k: v for k, v in env.items() if k != "value"})
        if method == "PATCH":
            body = req.body if isinstance(req.body, dict) else {}
            env.update({k: body[k] for k in ("value", "target", "type") if k in body})
            return Response(200, {k: v for k, v in env.items() if k != "value"})
    if parts == ["v13", "deployments"] and method == "POST":
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("name"):
            return _vercel_error(400, "bad_request", "Missing name")
        dep_id = state.next_id("dpl_")
        state.deployments[dep_id] = {
            "id": dep_id,
            "name": body["name"],
            "readyState": "QUEUED",
            "target": body.get("target", "production"),
            "polls": 0,
        }
        return Response(200, _deployment(state.deployments[dep_id]))
    if parts[:2] == ["v13", "deployments"] and len(parts) == 3 and method == "GET":
        dep = state.deployments.get(parts[2])
        if dep is None:
            return _vercel_error(404, "not_found", "Deployment not found")
        dep["polls"] += 1  # QUEUED → BUILDING → final, one step per poll
        dep["readyState"] = "BUILDING" if dep["polls"] == 1 else state.deploy_result
        return Response(200, _deployment(dep))
    return _vercel_error(404, "not_found", "Not found")


def _deployment(dep: dict) -> dict:
    return {k: v for k, v in dep.items() if k != "polls"}


def _vercel_upsert(state: SimulatorState, req: Request) -> Response:
    items = req.body if isinstance(req.body, list) else [req.body]
    created, failed = [], []
    for item in items:
        if (
            not isinstance(item, dict)
            or not item.get("key")
            or "value" not in item
            or item.get("type") not in VERCEL_TYPES
            or not set(item.get("target") or []) <= VERCEL_TARGETS
        ):
            failed.append({"error": {"code": "bad_request", "message": "Invalid env"}})
            continue
        existing = next((e for e in state.vercel_env.values() if e["key"] == item["key"]), None)
        if existing and req.query.get("upsert") != "true":
            failed.append({"error": {"code": "ENV_ALREADY_EXISTS", "key": item["key"]}})
            continue
        env_id = existing["id"] if existing else state.next_id("env_")
        state.vercel_env[env_id] = {
            "id": env_id,
            "key": item["key"],
            "value": item["value"],
            "type": item["type"],
            "target": item.get("target", []),
        }
        created.append({k: v for k, v in state.vercel_env[env_id].items() if k != "value"})
    return Response(201 if created else 400, {"created": created, "failed": failed})


@simulated("pagerduty_events")
def pagerduty_events(state: SimulatorState, req: Request) -> Response:
    body = req.body if isinstance(req.body, dict) else {}
    action, errors = body.get("event_action"), []
    if not body.get("routing_key"):
        errors.append("'routing_key' is missing or blank")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' is invalid")
    if action == "trigger":
        payload = body.get("payload") or {}
        if not payload.get("summary") or not payload.get("source"):
            errors.append("'payload' is missing summary or source")
        if payload.get("severity") not in PD_SEVERITIES:
            errors.append("'payload.severity' is invalid")
    elif not body.get("dedup_key"):
        errors.append("'dedup_key' is required for acknowledge and resolve")
    if errors:
        return Response(
            400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        )
    dedup = body.get("dedup_key") or state.next_id("sim-dedup-")
    return Response(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})


@simulated(
    "pagerduty",
    auth="Token token=",
    refused=lambda: Response(401, {"error": {"code": 2006, "message": "Invalid Credentials"}}),
)
def pagerduty(state: SimulatorState, req: Request) -> Response:
    parts, method = req.path.strip("/").split("/"), req.method
    if parts == ["abilities"] and method == "GET":
        return Response(200, {"abilities": ["teams", "urgencies"]})
    if parts == ["oncalls"] and method == "GET":
        return Response(200, {"oncalls": SIM_ONCALLS, "limit": 25, "offset": 0, "more": False})
    if parts[:1] == ["incidents"] and len(parts) in (2, 3) and method in ("PUT", "POST"):
        if not req.headers.get("from"):
            return Response(
                400,
                {
                    "error": {
                        "code": 2001,
                        "message": "Invalid Input Provided",
                        "errors": ["Requester User Not Found"],
                    }
                },
            )
        body = req.body if isinstance(req.body, dict) else {}
        if len(parts) == 2 and method == "PUT":
            incident = body.get("incident") or {}
            if incident.get("type") != "incident_reference" or not incident.get("status"):
                return Response(
                    400,
                    {
                        "error": {
                            "code": 2001,
                            "message": "Invalid Input Provided",
                            "errors": ["Incident is invalid"],
                        }
                    },
                )
            return Response(200, {"incident": {"id": parts[1], "status": incident["status"]}})
        if len(parts) == 3 and parts[2] == "notes" and method == "POST":
            content = (body.get("note") or {}).get("content")
            if not content:
                return Response(
                    400,
                    {
                        "error": {
                            "code": 2001,
                            "message": "Invalid Input Provided",
                            "errors": ["Note content is required"],
                        }
                    },
                )
            return Response(201, {"note": {"id": state.next_id("note-"), "content": content}})
    return Response(404, {"error": {"code": 2100, "message": "Not Found"}})


@simulated(
    "slack", auth="Bearer xox", refused=lambda: Response(200, {"ok": False, "error": "not_authed"})
)
def slack(state: SimulatorState, req: Request) -> Response:
    method_name = req.path.strip("/").removeprefix("api/")
    if method_name == "auth.test":
        return Response(200, {"ok": True, "team": "Sim", "user": "opsportal-bot"})
    if method_name == "chat.postMessage":
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("channel"):
            return Response(200, {"ok": False, "error": "channel_not_found"})
        if not body.get("text") and not body.get("blocks"):
            return Response(200, {"ok": False, "error": "no_text"})
        return Response(
            200, {"ok": True, "channel": body["channel"], "ts": f"{state.next_id('')}.000100"}
        )
    return Response(200, {"ok": False, "error": "unknown_method"})
