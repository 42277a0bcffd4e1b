"""PagerDuty REST (resolve, note, on-call) and Events v2, checked against PagerDuty's own API."""

import json

import pytest

from integrations.clients.pagerduty import PagerDutyEventsClient, PagerDutyRestClient
from integrations.errors import NotConfigured

REST = "https://api.pagerduty.com"
EVENTS = "https://events.pagerduty.com/v2/enqueue"


def test_resolve_sends_from_and_the_incident_reference(vendor_urls, respx_mock):
    route = respx_mock.put(f"{REST}/incidents/PINC1").respond(
        200, json={"incident": {"id": "PINC1", "type": "incident", "status": "resolved"}}
    )
    result = PagerDutyRestClient().incident_resolve(
        "PINC1", "oncall@example.com", resolution="key rotated"
    )
    assert result["incident"]["status"] == "resolved"
    sent = route.calls.last.request
    assert sent.headers["from"] == "oncall@example.com"
    assert sent.headers["authorization"] == "Token token=test-pagerduty-key"
    assert sent.headers["accept"] == "application/vnd.pagerduty+json;version=2"
    assert json.loads(sent.content) == {
        "incident": {
            "type": "incident_reference",
            "status": "resolved",
            "resolution": "key rotated",
        }
    }


def test_resolve_defaults_to_the_configured_from_email(vendor_urls, respx_mock):
    route = respx_mock.put(f"{REST}/incidents/PINC1").respond(
        200, json={"incident": {"id": "PINC1", "status": "resolved"}}
    )
    PagerDutyRestClient().incident_resolve("PINC1")
    assert route.calls.last.request.headers["from"] == "ops@example.com"


def test_resolve_without_any_from_email_is_not_configured(vendor_urls, respx_mock, settings):
    settings.PAGERDUTY_FROM_EMAIL = ""
    with pytest.raises(NotConfigured):
        PagerDutyRestClient().incident_resolve("PINC1")


def test_note_add_sends_from_and_content(vendor_urls, respx_mock):
    route = respx_mock.post(f"{REST}/incidents/PINC1/notes").respond(
        201, json={"note": {"id": "PNOTE1", "content": "Rotated the leaked key."}}
    )
    note = PagerDutyRestClient().incident_note_add("PINC1", "Rotated the leaked key.")
    assert note["note"]["id"] == "PNOTE1"
    sent = route.calls.last.request
    assert sent.headers["from"] == "ops@example.com"
    assert json.loads(sent.content) == {"note": {"content": "Rotated the leaked key."}}


def test_empty_note_or_incident_id_is_refused_before_sending(vendor_urls, respx_mock):
    client = PagerDutyRestClient()
    with pytest.raises(ValueError):
        client.incident_note_add("PINC1", "  ")
    with pytest.raises(ValueError):
        client.incident_resolve("")


def test_oncalls_asks_per_escalation_policy_for_the_earliest(vendor_urls, respx_mock):
    route = respx_mock.get(f"{REST}/oncalls").respond(
        200,
        json={
            "oncalls": [
                {
                    "user": {"id": "PU1", "summary": "Ada", "html_url": "https://x/users/PU1"},
                    "escalation_policy": {"id": "PEP1"},
                    "escalation_level": 1,
                    "start": "2026-12-06T00:00:00Z",
                    "end": None,
                }
            ],
            "limit": 25,
            "offset": 0,
            "more": False,
        },
    )
    oncalls = PagerDutyRestClient().oncalls(["PEP1", "PEP2"])
    assert [o["user"]["summary"] for o in oncalls] == ["Ada"]
    params = route.calls.last.request.url.params
    assert params.get_list("escalation_policy_ids[]") == ["PEP1", "PEP2"]
    assert params["earliest"] == "true"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda c: c.trigger(summary="PNG red", source="opsportal", severity="critical"),
            {
                "event_action": "trigger",
                "payload": {"summary": "PNG red", "source": "opsportal", "severity": "critical"},
            },
        ),
        (
            lambda c: c.acknowledge(dedup_key="d-1"),
            {"event_action": "acknowledge", "dedup_key": "d-1"},
        ),
        (lambda c: c.resolve(dedup_key="d-1"), {"event_action": "resolve", "dedup_key": "d-1"}),
    ],
    ids=["trigger", "acknowledge", "resolve"],
)
def test_events_v2_bodies(vendor_urls, respx_mock, call, expected):
    route = respx_mock.post(EVENTS).respond(
        202, json={"status": "success", "message": "Event processed", "dedup_key": "d-1"}
    )
    assert call(PagerDutyEventsClient()) == "d-1"
    assert json.loads(route.calls.last.request.content) == {
        "routing_key": "test-routing-key",
        **expected,
    }


def test_trigger_needs_summary_and_source(vendor_urls, respx_mock):
    with pytest.raises(ValueError):
        PagerDutyEventsClient().trigger(summary=" ", source="opsportal")
    with pytest.raises(ValueError):
        PagerDutyEventsClient().trigger(summary="x", source="")
