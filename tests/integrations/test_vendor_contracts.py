"""The vendor contracts (integrations/contracts): sources, what they refuse, how vendors refuse."""

import json
import re

import httpx
import pytest
from jsonschema import Draft202012Validator

from integrations.contracts import check_request, check_response, contract, vendors
from integrations.contracts.refusal import refusal_for
from integrations.contracts.simulator import SIMULATED, simulated_request_check
from integrations.contracts.validate import CONTRACTS_DIR, request_violations

REF = "abcdefghijklmnopqrst"
BEARER = {"authorization": "Bearer t0ken", "content-type": "application/json"}
PD_HEADERS = {
    "authorization": "Token token=k",
    "accept": "application/vnd.pagerduty+json;version=2",
    "content-type": "application/json",
    "from": "ops@example.com",
}


def test_every_contract_is_json_schema_with_its_sources_and_date():
    assert vendors() == [
        "pagerduty_events",
        "pagerduty_rest",
        "slack",
        "supabase_management",
        "supabase_project",
        "vercel",
    ]
    for vendor in vendors():
        doc = json.loads((CONTRACTS_DIR / f"{vendor}.json").read_text())
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc["taken"])
        assert doc["sources"]
        for source in doc["sources"]:
            assert ("repository" in source and "path" in source) or "url" in source
            if "commit" in source:
                assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
        for name, endpoint in doc["endpoints"].items():
            Draft202012Validator.check_schema({"$defs": doc["$defs"], **endpoint["request"]})
            assert endpoint["responses"], name
        assert contract(vendor).endpoints


def test_readme_names_every_contract_file():
    readme = (CONTRACTS_DIR / "README.md").read_text()
    for vendor in vendors():
        assert f"`{vendor}.json`" in readme


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        ({"name": "station-web", "target": "production"}, False),  # the saga's old body
        ({"name": "station-web", "deploymentId": "dpl_1", "target": "production"}, True),
        ({"name": "station-web", "files": [], "gitSource": {}}, False),
        ({"name": "station-web", "deploymentId": "dpl_1", "deploymentID": "x"}, False),
    ],
)
def test_vercel_redeploy_needs_a_deployment_id(body, ok):
    found = check_request(
        "vercel", method="POST", path="/v13/deployments", headers=BEARER, body=body
    )
    assert (found == []) is ok, found


def test_supabase_management_rules():
    def post_secrets(items, ref=REF):
        path = f"/v1/projects/{ref}/secrets"
        return check_request(
            "supabase_management", method="POST", path=path, headers=BEARER, body=items
        )

    assert post_secrets([{"name": "SERVICE_ROLE_KEY", "value": "v"}]) == []
    assert [v.where for v in post_secrets([{"name": "SUPABASE_URL", "value": "v"}])] == [
        "body.0.name"
    ]
    assert [v.where for v in post_secrets([{"name": "A", "value": "v"}], ref="short")] == [
        "path.ref"
    ]
    revoke = check_request(
        "supabase_management",
        method="DELETE",
        path=f"/v1/projects/{REF}/api-keys/not-a-uuid",
        query={"was_compromised": "yes"},
        headers=BEARER,
    )
    assert sorted(v.where for v in revoke) == ["path.id", "query.was_compromised"]
    # a literal path wins over the template that also matches it
    legacy = check_request(
        "supabase_management",
        method="PUT",
        path=f"/v1/projects/{REF}/api-keys/legacy",
        query={"enabled": "false"},
        headers=BEARER,
    )
    assert legacy == []


def test_pagerduty_rules():
    resolve = {"incident": {"type": "incident_reference", "status": "resolved"}}
    no_from = {k: v for k, v in PD_HEADERS.items() if k != "from"}
    path = "/incidents/PINC1"
    assert (
        check_request("pagerduty_rest", method="PUT", path=path, headers=PD_HEADERS, body=resolve)
        == []
    )
    found = check_request("pagerduty_rest", method="PUT", path=path, headers=no_from, body=resolve)
    assert [(v.where, v.message) for v in found] == [("headers", "'from' is a required property")]
    events = {"content-type": "application/json"}
    resolve_event = {"routing_key": "r", "event_action": "resolve"}
    found = check_request(
        "pagerduty_events", method="POST", path="/v2/enqueue", headers=events, body=resolve_event
    )
    assert [v.where for v in found] == ["body"] and "dedup_key" in found[0].message
    trigger = {
        "routing_key": "r",
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "x", "severity": "fatal"},
    }
    found = check_request(
        "pagerduty_events", method="POST", path="/v2/enqueue", headers=events, body=trigger
    )
    assert [v.where for v in found] == ["body.payload.severity"]


def test_slack_rules():
    post = {"channel": "#ops", "text": "hello"}
    assert (
        check_request("slack", method="POST", path="/chat.postMessage", headers=BEARER, body=post)
        == []
    )
    found = check_request(
        "slack", method="POST", path="/chat.postMessage", headers=BEARER, body={"channel": "#ops"}
    )
    assert "'text' is a required property" in found[0].message
    no_type = {"authorization": "Bearer xoxb-1"}
    found = check_request(
        "slack", method="POST", path="/chat.postMessage", headers=no_type, body=post
    )
    assert [v.message for v in found] == ["'content-type' is a required property"]
    assert check_request("slack", method="GET", path="/auth.test", headers=no_type) == []


def test_undocumented_paths_methods_and_statuses_are_violations():
    assert (
        "no documented endpoint"
        in check_request("vercel", method="GET", path="/v1/nothing")[0].message
    )
    assert (
        "not allowed"
        in check_request("vercel", method="DELETE", path="/v13/deployments")[0].message
    )
    found = check_response("vercel", method="GET", path="/v9/projects/p", status=418, body={})
    assert [v.where for v in found] == ["status"]


def test_responses_are_checked_against_the_documented_bodies():
    path = "/v9/projects/p"
    good = {"error": {"code": "forbidden", "message": "Not authorized"}}
    assert check_response("vercel", method="GET", path=path, status=403, body=good) == []
    assert check_response("vercel", method="GET", path=path, status=403, body={"message": "x"})
    throttled = {"ok": False, "error": "ratelimited"}
    found = check_response(
        "slack", method="POST", path="/chat.postMessage", status=429, body=throttled
    )
    assert [v.message for v in found] == ["'retry-after' is a required property"]
    assert (
        check_response(
            "slack",
            method="POST",
            path="/chat.postMessage",
            status=429,
            headers={"Retry-After": "30"},
            body=throttled,
        )
        == []
    )


def test_messages_never_carry_the_values_they_refuse():
    secret = "sk_live_SECRET_VALUE_123"
    found = check_request(
        "supabase_management",
        method="POST",
        path=f"/v1/projects/{REF}/secrets",
        headers={"authorization": f"Token {secret}", "content-type": "text/plain"},
        body=[{"name": f"SUPABASE_{secret}", "value": 7}],
    )
    assert len(found) == 4
    assert all(secret not in str(v) for v in found)


def test_httpx_requests_are_read_against_the_documented_server_or_a_base():
    request = httpx.Request(
        "POST",
        "https://api.vercel.com/v13/deployments?forceNew=1",
        headers={"Authorization": "Bearer t"},
        json={"name": "p", "deploymentId": "dpl_1", "target": "production"},
    )
    assert request_violations("vercel", request) == []
    proxied = httpx.Request(
        "GET", "http://127.0.0.1:9/vercel/v9/projects/a%2Fb", headers={"Authorization": "Bearer t"}
    )
    assert request_violations("vercel", proxied, base_url="http://127.0.0.1:9/vercel") == []
    elsewhere = request_violations("vercel", proxied, base_url="http://127.0.0.1:9/slack")
    assert [v.where for v in elsewhere] == ["url"]
    project = httpx.Request(
        "GET",
        f"https://{REF}.supabase.co/auth/v1/admin/users?page=1",
        headers={"apikey": "sb_secret_x"},
    )
    assert request_violations("supabase_project", project) == []


@pytest.mark.parametrize(
    ("vendor", "method", "path", "body"),
    [
        ("vercel", "POST", "/v13/deployments", {"name": "p"}),
        ("supabase_management", "POST", f"/v1/projects/{REF}/secrets", []),
        ("supabase_project", "POST", "/functions/v1/voucher-png", {}),
        ("supabase_project", "GET", "/auth/v1/admin/users", None),
        ("pagerduty_rest", "POST", "/incidents/P1/notes", {"note": {}}),
        ("pagerduty_events", "POST", "/v2/enqueue", {"event_action": "resolve"}),
        ("slack", "POST", "/chat.postMessage", {"channel": "#ops"}),
    ],
)
def test_each_refusal_is_an_answer_the_vendor_documents(vendor, method, path, body):
    found = check_request(vendor, method=method, path=path, headers={}, body=body)
    assert found
    status, answer = refusal_for(vendor, method, path, found)
    assert check_response(vendor, method=method, path=path, status=status, body=answer) == []
    if vendor != "slack" and path != "/functions/v1/voucher-png":  # those answer a fixed code
        assert any(found[0].message in text for text in _strings(answer))


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_simulator_hook_refuses_the_old_redeploy_as_vercel_does():
    old = simulated_request_check(
        "vercel",
        method="POST",
        path="/v13/deployments",
        headers=BEARER,
        body={"name": "station-web", "target": "production"},
    )
    assert old.refusal[0] == 400
    assert old.refusal[1]["error"]["code"] == "bad_request"
    new = simulated_request_check(
        "vercel",
        method="POST",
        path="/v13/deployments",
        query={"forceNew": "1"},
        headers=BEARER,
        body={"name": "station-web", "deploymentId": "dpl_1", "target": "production"},
    )
    assert (new.violations, new.refusal) == ([], None)


@pytest.mark.parametrize(
    ("service", "path", "vendor_path"),
    [
        ("voucher_png", "/", "/functions/v1/voucher-png"),
        ("whatsapp", "/", "/functions/v1/send-whatsapp"),
        ("supabase_auth", "/admin/users", "/auth/v1/admin/users"),
        ("slack", "/api/chat.postMessage", "/chat.postMessage"),
        ("pagerduty", "/incidents/P1", "/incidents/P1"),
    ],
)
def test_simulator_paths_map_to_the_vendor_paths(service, path, vendor_path):
    assert service in SIMULATED
    assert simulated_request_check(service, method="GET", path=path).path == vendor_path
