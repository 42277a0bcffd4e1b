"""The strict simulator: a request the vendor would refuse is answered exactly as the vendor
documents (before any simulated state changes), credentials and faults come first, and
every answer it gives is one the vendor documents.

Requests here go out on a plain httpx client, not the suite's checked pool
(tests/vendor_contracts.py would stop a bad request before it left), so the simulator
itself is what refuses them.
"""

import httpx
import pytest

from integrations.contracts import check_response

JSON = {"Content-Type": "application/json"}
VERCEL = {"Authorization": "Bearer sim-vercel-token", **JSON}
PD = {
    "Authorization": "Token token=sim-pagerduty-key",
    "Accept": "application/vnd.pagerduty+json;version=2",
    **JSON,
}
SLACK = {"Authorization": "Bearer xoxb-sim-bot-token", **JSON}
MGMT = {"Authorization": "Bearer sim-access-token", **JSON}
EF = {"apikey": "sim-functions-apikey", **JSON}
REF = "opsportaldemoproject"

# (name, method, simulator path, headers, body, vendor, vendor path, status, check the body)
INVALID = [
    (
        "vercel redeploy without deploymentId",
        "POST",
        "/vercel/v13/deployments",
        VERCEL,
        {"name": "station-web", "target": "production"},
        "vercel",
        "/v13/deployments",
        400,
        lambda b: b["error"]["code"] == "bad_request" and "deploymentId" in b["error"]["message"],
    ),
    (
        "vercel env of an unknown target",
        "POST",
        "/vercel/v10/projects/station-web/env",
        VERCEL,
        {"key": "K", "value": "v", "type": "encrypted", "target": ["moon"]},
        "vercel",
        "/v10/projects/station-web/env",
        400,
        lambda b: b["error"]["code"] == "bad_request",
    ),
    (
        "pagerduty resolve without From",
        "PUT",
        "/pagerduty/incidents/PSIM0001",
        PD,
        {"incident": {"type": "incident_reference", "status": "resolved"}},
        "pagerduty_rest",
        "/incidents/PSIM0001",
        400,
        lambda b: b["error"]["code"] == 2001 and any("from" in e for e in b["error"]["errors"]),
    ),
    (
        "pagerduty events resolve without dedup_key",
        "POST",
        "/pagerduty-events/v2/enqueue",
        JSON,
        {"routing_key": "sim-routing-key", "event_action": "resolve"},
        "pagerduty_events",
        "/v2/enqueue",
        400,
        lambda b: b["status"] == "invalid event" and b["errors"],
    ),
    (
        "slack message without text",
        "POST",
        "/slack/api/chat.postMessage",
        SLACK,
        {"channel": "#ops"},
        "slack",
        "/chat.postMessage",
        200,
        lambda b: b == {"ok": False, "error": "invalid_arguments"},
    ),
    (
        "supabase secret named SUPABASE_",
        "POST",
        f"/supabase/v1/projects/{REF}/secrets",
        MGMT,
        [{"name": "SUPABASE_URL", "value": "x"}],
        "supabase_management",
        f"/v1/projects/{REF}/secrets",
        400,
        lambda b: "body" in b["message"],
    ),
    (
        "supabase project ref that is not 20 letters",
        "GET",
        "/supabase/v1/projects/simproject/functions",
        MGMT,
        None,
        "supabase_management",
        "/v1/projects/simproject/functions",
        400,
        lambda b: "path.ref" in b["message"],
    ),
    (
        "edge function without a code",
        "POST",
        "/functions/v1/voucher-png",
        EF,
        {},
        "supabase_project",
        "/functions/v1/voucher-png",
        400,
        lambda b: b == {"error": "invalid_request"},
    ),
]


def _send(sim, method, path, headers, body):
    with httpx.Client(base_url=sim.url, trust_env=False) as raw:
        return raw.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "vendor", "vendor_path", "status", "ok"),
    [row[1:] for row in INVALID],
    ids=[row[0] for row in INVALID],
)
def test_an_invalid_request_is_refused_as_the_vendor_documents(
    simulator, method, path, headers, body, vendor, vendor_path, status, ok
):
    before = simulator.state()
    answer = _send(simulator, method, path, headers, body)
    assert answer.status_code == status, answer.text
    assert ok(answer.json()), answer.json()
    assert (
        check_response(vendor, method=method, path=vendor_path, status=status, body=answer.json())
        == []
    )
    after = simulator.state()
    for kept in ("secrets", "vercel_env", "deployments", "pagerduty_incidents", "sent"):
        assert after[kept] == before[kept]  # refused before anything was simulated


def test_the_old_redeploy_body_is_refused_and_the_new_one_builds(simulator):
    old = _send(
        simulator,
        "POST",
        "/vercel/v13/deployments",
        VERCEL,
        {"name": "station-web", "target": "production"},
    )
    assert (old.status_code, old.json()["error"]["code"]) == (400, "bad_request")
    listed = _send(
        simulator,
        "GET",
        "/vercel/v7/deployments?projectId=station-web&target=production&state=READY&limit=1",
        VERCEL,
        None,
    ).json()["deployments"]
    new = _send(
        simulator,
        "POST",
        "/vercel/v13/deployments?forceNew=1",
        VERCEL,
        {
            "name": "station-web",
            "project": "station-web",
            "deploymentId": listed[0]["uid"],
            "target": "production",
        },
    )
    assert (new.status_code, new.json()["readyState"]) == (200, "QUEUED")


def test_a_missing_credential_is_the_vendors_own_refusal_not_a_validation_error(simulator):
    no_token = {k: v for k, v in VERCEL.items() if k != "Authorization"}
    answer = _send(simulator, "GET", "/vercel/v9/projects/station-web", no_token, None)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "forbidden")
    no_key = {k: v for k, v in PD.items() if k != "Authorization"}
    answer = _send(simulator, "GET", "/pagerduty/abilities", no_key, None)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, 2006)
    answer = _send(simulator, "POST", "/functions/v1/voucher-png", JSON, {"code": "V1"})
    assert (answer.status_code, answer.headers["sb-error-code"]) == (
        401,
        "UNAUTHORIZED_NO_AUTH_HEADER",
    )


def test_a_switched_on_fault_comes_before_the_contract(simulator):
    simulator.set_fault("slack", status=429, retry_after=7)
    answer = _send(simulator, "POST", "/slack/api/chat.postMessage", SLACK, {"channel": "#x"})
    assert (answer.status_code, answer.headers["retry-after"]) == (429, "7")


def test_an_answer_no_vendor_gives_is_recorded(simulator, monkeypatch):
    from devtools.simulator import routes, server

    def broken(state, req):
        return routes.Response(200, {"ok": True})  # chat.postMessage without channel and ts

    prefixes = [(p, s, broken if s == "slack" else h) for p, s, h in server.PREFIXES]
    monkeypatch.setattr(server, "PREFIXES", prefixes)
    _send(simulator, "POST", "/slack/api/chat.postMessage", SLACK, {"channel": "#x", "text": "t"})
    violations = simulator.contract_violations()
    assert violations and all("chat.postMessage" in v for v in violations)
    simulator.state_obj.contract_violations.clear()  # the fixture would fail on them


def test_control_settings_point_every_client_here(simulator):
    simulator.add_settings(AWS_SECRETS_ENDPOINT_URL="http://127.0.0.1:9")
    settings = httpx.get(f"{simulator.url}/_control/settings", trust_env=False).json()
    assert settings == {**simulator.settings(), "AWS_SECRETS_ENDPOINT_URL": "http://127.0.0.1:9"}
    assert settings["SUPABASE_PROJECT_URL_TEMPLATE"] == simulator.url


def test_every_refusal_is_an_answer_its_endpoint_documents():
    from integrations.contracts import contract, vendors

    for vendor in vendors():
        doc = contract(vendor).doc
        for name, endpoint in doc["endpoints"].items():
            status = str(endpoint.get("refusal", doc["refusal"])["status"])
            documented = endpoint["responses"]
            assert status in documented or f"{status[0]}XX" in documented, (vendor, name)
