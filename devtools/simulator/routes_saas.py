"""Simulated PagerDuty (Events v2 + REST) and Slack.

PagerDuty: an Events v2 trigger opens an incident whose `incident_key` is the dedup key (a
repeat while it is open changes nothing), acknowledge/resolve move it; the REST API finds it
by `incident_key`, resolves it and adds notes. Not modelled: services, escalation, alert
grouping, users (any `From` address that is an e-mail is a user), webhooks.
Slack: any channel exists; messages are only recorded in the call log.
"""

import time

from devtools.simulator.routes import Request, Response, bearer, pd_error, simulated
from devtools.simulator.state import SimulatorState

# Who the simulated PagerDuty says is on call (GET /oncalls), first level first.
SIM_ONCALLS = (
    (1, "PUSER01", "Ada Oncall"),
    (2, "PUSER02", "Ben Backup"),
)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- Events v2 -----------------------------------------------------------------------------


def _open_incident(state: SimulatorState, key: str) -> dict | None:
    for incident in state.pd_incidents.values():
        if incident["incident_key"] == key and incident["status"] != "resolved":
            return incident
    return None


@simulated("pagerduty_events")
def pagerduty_events(state: SimulatorState, req: Request) -> Response:
    body = req.body
    action = body["event_action"]
    key = body.get("dedup_key") or state.next_id("sim-dedup-")
    incident = _open_incident(state, key)
    if action == "trigger" and incident is None:
        number = len(state.pd_incidents) + 1
        incident_id = f"PSIM{number:04d}"
        state.pd_incidents[incident_id] = {
            "id": incident_id,
            "type": "incident",
            "incident_number": number,
            "incident_key": key,
            "title": body["payload"]["summary"],
            "urgency": "high" if body["payload"]["severity"] in ("critical", "error") else "low",
            "status": "triggered",
            "created_at": _now(),
            "notes": [],
        }
    elif action in ("acknowledge", "resolve") and incident is not None:
        incident["status"] = "acknowledged" if action == "acknowledge" else "resolved"
    return Response(202, {"status": "success", "message": "Event processed", "dedup_key": key})


# --- REST ----------------------------------------------------------------------------------


def _public(incident: dict) -> dict:
    return {k: v for k, v in incident.items() if k != "notes"}


@simulated("pagerduty", credentials=bearer("Token token=", lambda: pd_error(401)))
def pagerduty(state: SimulatorState, req: Request) -> Response:
    parts, method = req.path.strip("/").split("/"), req.method
    if parts == ["abilities"]:
        return Response(200, {"abilities": ["teams", "urgencies"]})
    if parts == ["oncalls"]:
        return _oncalls(req)
    if parts == ["incidents"]:
        return _incidents_list(state, req)
    incident = state.pd_incidents.get(parts[1])
    if incident is None:
        return pd_error(404)
    if method == "PUT":
        change = req.body["incident"]
        for name in ("status", "title", "urgency"):
            if name in change:
                incident[name] = change[name]
        if change.get("resolution"):
            incident["notes"].append({"content": change["resolution"], "from": req.headers["from"]})
        return Response(200, {"incident": _public(incident)})
    note = {
        "id": state.next_id("PNOTE"),
        "content": req.body["note"]["content"],
        "created_at": _now(),
        "user": {"id": "PSIMUSR", "type": "user_reference", "summary": req.headers["from"]},
    }
    incident["notes"].append({"content": note["content"], "from": req.headers["from"]})
    return Response(201, {"note": note})


def _listed(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def _incidents_list(state: SimulatorState, req: Request) -> Response:
    found = list(state.pd_incidents.values())
    if "incident_key" in req.query:
        found = [i for i in found if i["incident_key"] == req.query["incident_key"]]
    if "statuses[]" in req.query:
        found = [i for i in found if i["status"] in _listed(req.query["statuses[]"])]
    limit = int(req.query.get("limit", "25"))
    return Response(
        200,
        {
            "incidents": [_public(i) for i in found[:limit]],
            "limit": limit,
            "offset": 0,
            "more": len(found) > limit,
            "total": None,
        },
    )


def _oncalls(req: Request) -> Response:
    """Each asked-for escalation policy (else the simulator's one) has the same people on
    call: Ada at level 1, Ben at level 2."""
    policies = _listed(req.query.get("escalation_policy_ids[]", ["PSIMEP1"]))
    oncalls = [
        {
            "user": {
                "id": user_id,
                "type": "user_reference",
                "summary": name,
                "html_url": f"https://sim/users/{level}",
            },
            "escalation_policy": {"id": policy, "type": "escalation_policy_reference"},
            "escalation_level": level,
            "start": None,
            "end": None,
        }
        for policy in policies
        for level, user_id, name in SIM_ONCALLS
    ]
    return Response(
        200, {"oncalls": oncalls, "limit": 25, "offset": 0, "more": False, "total": None}
    )


# --- Slack -----------------------------------------------------------------------------------


@simulated(
    "slack",
    credentials=bearer("Bearer xox", lambda: Response(200, {"ok": False, "error": "not_authed"})),
)
def slack(state: SimulatorState, req: Request) -> Response:
    method_name = req.path.strip("/").removeprefix("api/")
    if method_name == "auth.test":
        return Response(
            200, {"ok": True, "team": "Sim", "user": "opsportal-bot", "team_id": "TSIM"}
        )
    channel = req.body["channel"]
    return Response(200, {"ok": True, "channel": channel, "ts": f"{state.next_id('')}.000100"})
