"""Every public method of every HTTP client, against the strict simulator over real sockets.

The simulator refuses what the vendor would refuse (and answers only what the vendor
documents); the suite's contract check (tests/vendor_contracts.py) stops a request the
vendor would refuse before it leaves. So a client method that builds a request the vendor
would refuse fails here twice over. `test_the_walk_covers_every_method` keeps the walk
complete: a new client method without a walk fails it.
"""

import inspect

import pytest

from integrations.clients.base import HttpClient
from integrations.clients.edge_functions import SendWhatsAppClient, VoucherPngClient
from integrations.clients.keepalive import KeepAliveWhatsAppSender
from integrations.clients.pagerduty import PagerDutyEventsClient, PagerDutyRestClient
from integrations.clients.slack import SlackClient
from integrations.clients.supabase_admin import SupabaseAdminProbe
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.clients.vercel import VercelClient

CLIENTS = (
    VoucherPngClient,
    SendWhatsAppClient,
    SupabaseManagementClient,
    SupabaseAdminProbe,
    VercelClient,
    PagerDutyEventsClient,
    PagerDutyRestClient,
    SlackClient,
    KeepAliveWhatsAppSender,
)
# Hooks every HttpClient has (classification), not calls of their own.
HOOKS = {"provider_code", "retry_after", "error_for", "request", "timeout", "ensure_configured"}


def public_methods(cls) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
        and name not in HOOKS
        and (cls is KeepAliveWhatsAppSender or not hasattr(HttpClient, name))
    }


def _edge_functions(sim) -> set[str]:
    png = VoucherPngClient()
    assert png.render(code="V-1").startswith(b"\x89PNG")
    assert png.ping().status_code == 405  # deployed, routed, key accepted
    wa = SendWhatsAppClient()
    first = wa.send(to="+250788000001", template="promo", variables={}, idempotency_key="w1")
    assert first == wa.send(
        to="+250788000001", template="promo", variables={}, idempotency_key="w1", language="fr"
    )
    assert wa.ping().status_code == 405
    sender = KeepAliveWhatsAppSender(SendWhatsAppClient())
    try:
        assert sender.send(to="+250788000002", template="t", variables={}, idempotency_key="w2")
    finally:
        sender.close()
    assert sim.sent_total() == 2
    return {"VoucherPngClient.render", "VoucherPngClient.ping", "SendWhatsAppClient.send"} | {
        "SendWhatsAppClient.ping",
        "KeepAliveWhatsAppSender.send",
        "KeepAliveWhatsAppSender.close",
    }


def _supabase(sim) -> set[str]:
    mgmt = SupabaseManagementClient()
    assert {f["slug"] for f in mgmt.functions()} == {"voucher-png", "send-whatsapp"}
    assert mgmt.function("voucher-png")["status"] == "ACTIVE"
    mgmt.secrets_set({"SERVICE_ROLE_KEY": "v1", "OTHER": "v2"})
    assert mgmt.secret_names() == ["OTHER", "SERVICE_ROLE_KEY"]
    assert len(mgmt.secret_digests()["OTHER"]) == 64
    mgmt.secrets_delete(["OTHER"])
    key = mgmt.api_key_create(name="opsportal_walk")
    assert key["api_key"].startswith("sb_secret_") and "·" not in key["api_key"]  # revealed
    probe = SupabaseAdminProbe(project_ref=mgmt.project_ref)
    assert probe.key_accepted(key["api_key"]) is True
    mgmt.api_key_revoke(key["id"], reason="walk")
    assert probe.key_accepted(key["api_key"]) is False
    assert probe.key_accepted("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZSJ9.c2lnbmF0dXJl")
    mgmt.legacy_keys_disable()
    assert sim.state()["legacy_keys_enabled"] is False
    names = {"functions", "function", "secrets_set", "secret_names", "secret_digests"}
    names |= {"secrets_delete", "api_key_create", "api_key_revoke", "legacy_keys_disable"}
    return {f"SupabaseManagementClient.{n}" for n in names} | {"SupabaseAdminProbe.key_accepted"}


def _vercel(sim) -> set[str]:
    vercel = VercelClient()
    assert vercel.project_get()["name"] == "station-web"
    created = vercel.env_upsert(key="SUPABASE_SERVICE_ROLE_KEY", value="a", targets=["production"])
    assert [e["key"] for e in vercel.env_list()] == ["SUPABASE_SERVICE_ROLE_KEY"]
    vercel.env_edit(created["id"], value="b")
    current = vercel.production_deployment()
    build = vercel.redeploy_production(deployment=current)
    assert vercel.deployment(build["id"])["readyState"] == "BUILDING"
    assert vercel.deployment_wait(build["id"], interval=0.01) == "READY"
    vercel.env_delete(created["id"])
    assert vercel.env_list() == []
    names = {"project_get", "env_upsert", "env_list", "env_edit", "env_delete"}
    names |= {"production_deployment", "redeploy_production", "deployment", "deployment_wait"}
    return {f"VercelClient.{n}" for n in names}


def _pagerduty(sim) -> set[str]:
    events = PagerDutyEventsClient()
    key = events.trigger(summary="Walk", source="opsportal", severity="warning", details={"a": 1})
    assert events.acknowledge(dedup_key=key) == key
    rest = PagerDutyRestClient()
    assert rest.abilities()
    [incident] = rest.incidents_by_key(key)
    assert incident["status"] == "acknowledged"
    assert rest.incident_note_add(incident["id"], "walked")["note"]["content"] == "walked"
    assert rest.incident_resolve(incident["id"], resolution="walk done")["incident"]["status"]
    assert rest.oncalls(["PEP1", "PEP2"])[0]["user"]["summary"] == "Ada Oncall"
    second = events.trigger(summary="Walk 2", source="opsportal", dedup_key="walk-2")
    assert events.resolve(dedup_key=second) == "walk-2"
    assert [i["status"] for i in sim.state()["pagerduty_incidents"]] == ["resolved", "resolved"]
    return (
        {f"PagerDutyEventsClient.{n}" for n in ("trigger", "acknowledge", "resolve")}
        | {
            f"PagerDutyRestClient.{n}"
            for n in ("abilities", "incidents_by_key", "incident_note_add", "incident_resolve")
        }
        | {"PagerDutyRestClient.oncalls"}
    )


def _slack(sim) -> set[str]:
    slack = SlackClient()
    assert slack.auth_test()["ok"] is True
    assert slack.post_message(text="walk", channel="#ops")
    assert slack.post_message(text="walk", blocks=[{"type": "section"}])
    return {"SlackClient.auth_test", "SlackClient.post_message"}


WALKS = (_edge_functions, _supabase, _vercel, _pagerduty, _slack)


@pytest.mark.parametrize("walk", WALKS, ids=[w.__name__.strip("_") for w in WALKS])
def test_every_method_against_the_strict_simulator(simulator, walk):
    walk(simulator)
    # 405: the GET probe of a function; 401: the project refusing a revoked key (an answer)
    expected = {("voucher_png", 405), ("whatsapp", 405), ("supabase_auth", 401)}
    answered = [(c["service"], c["status"]) for c in simulator.calls()]
    assert answered and all(200 <= s < 300 or (v, s) in expected for v, s in answered), answered


def test_the_walk_covers_every_method(simulator):
    walked = set().union(*(walk(simulator) for walk in WALKS))
    every = {f"{cls.__name__}.{name}" for cls in CLIENTS for name in public_methods(cls)}
    assert every == walked
