"""The runbooks' "close the incident in PagerDuty": through REST when a REST key (and a From
address) is configured — the incident found by its key, a note saying who closed it and
where, resolved as PAGERDUTY_FROM_EMAIL — else an Events v2 resolve. Both against the strict
simulator, which refuses what PagerDuty would refuse (a write without From, a blank key)."""

import pytest

from incidents.models import StepRun
from incidents.services import step_run_request
from incidents.tasks import step_run_execute

pytestmark = pytest.mark.django_db


@pytest.fixture
def paged(simulator, open_incident, ops_user, run_step):
    """A Voucher Preview incident whose page is open in (simulated) PagerDuty."""
    incident = open_incident("voucher_preview", actor=ops_user, dedup_key="close-test")
    assert run_step(incident, "pagerduty_trigger", ops_user).status == "succeeded"
    [page] = simulator.state()["pagerduty_incidents"]
    assert page["status"] == "triggered"
    simulator.state_obj.calls.clear()
    return incident


def test_with_a_rest_key_the_incident_is_resolved_by_a_person_with_a_note(
    simulator, paged, ops_user, run_step
):
    run = run_step(paged, "pagerduty_resolve", ops_user)
    assert run.status == StepRun.Status.SUCCEEDED, run.log
    [page] = simulator.state()["pagerduty_incidents"]
    assert page["status"] == "resolved"
    [note] = page["notes"]
    assert note["from"] == "ops@example.com"
    assert note["content"] == (
        f"Closed from OpsPortal incident #{paged.pk} ({paged.title}) by {ops_user.username}."
    )
    assert simulator.calls("pagerduty_events") == []  # REST only
    calls = [(c["method"], c["path"]) for c in simulator.calls("pagerduty")]
    assert calls == [
        ("GET", "/incidents"),
        ("POST", f"/incidents/{page['id']}/notes"),
        ("PUT", f"/incidents/{page['id']}"),
    ]
    search = simulator.calls("pagerduty", "GET")[0]["query"]
    assert search["incident_key"] == f"opsportal-incident-{paged.pk}"
    assert search["statuses[]"] == ["triggered", "acknowledged"]
    assert f"resolved {page['id']} with a note (REST)" in run.log
    assert run.result == {
        "dedup_key": f"opsportal-incident-{paged.pk}",
        "via": "rest",
        "incidents": [page["id"]],
    }


def test_closing_again_finds_nothing_open_and_changes_nothing(simulator, paged, ops_user, run_step):
    run_step(paged, "pagerduty_resolve", ops_user)
    again = run_step(paged, "pagerduty_resolve", ops_user)
    assert again.status == StepRun.Status.SUCCEEDED
    # Nothing open through REST (PagerDuty may not have made the incident of a fresh trigger
    # yet): an Events v2 resolve goes out too, a no-op for an alert already resolved.
    assert "no open PagerDuty incident with this key (REST); Events v2 resolve sent" in again.log
    assert len(simulator.calls("pagerduty", "PUT")) == 1
    [event] = [c["body"] for c in simulator.calls("pagerduty_events")]
    assert (event["event_action"], event["dedup_key"]) == (
        "resolve",
        f"opsportal-incident-{paged.pk}",
    )
    assert len(simulator.state()["pagerduty_incidents"][0]["notes"]) == 1


@pytest.mark.parametrize("missing", ["PAGERDUTY_API_KEY", "PAGERDUTY_FROM_EMAIL"])
def test_without_a_rest_key_or_from_address_it_is_an_events_v2_resolve(
    simulator, paged, ops_user, run_step, settings, missing
):
    setattr(settings, missing, "")
    run = run_step(paged, "pagerduty_resolve", ops_user)
    assert run.status == StepRun.Status.SUCCEEDED, run.log
    assert simulator.calls("pagerduty") == []
    [event] = [c["body"] for c in simulator.calls("pagerduty_events")]
    assert event["event_action"] == "resolve"
    assert event["dedup_key"] == f"opsportal-incident-{paged.pk}"
    assert simulator.state()["pagerduty_incidents"][0]["status"] == "resolved"
    assert run.result["via"] == "events"


@pytest.mark.parametrize(
    ("api_key", "says"),
    [("sim-pagerduty-key", "REST: note + resolve as ops@example.com"), ("", "Events v2 resolve")],
)
def test_the_dry_run_says_which_way_and_sends_nothing(
    simulator, paged, ops_user, settings, api_key, says
):
    settings.PAGERDUTY_API_KEY = api_key
    run = step_run_request(
        step=paged.steps.get(key="pagerduty_resolve"), actor=ops_user, dry_run=True
    )
    step_run_execute(run.pk)
    run.refresh_from_db()
    assert says in run.log
    assert simulator.calls() == []


def test_a_refused_rest_call_fails_the_step_with_pagerdutys_code(
    simulator, paged, ops_user, run_step
):
    simulator.set_fault("pagerduty", revoked=True)
    run = run_step(paged, "pagerduty_resolve", ops_user)
    assert run.status == StepRun.Status.FAILED
    assert "HTTP 401 code 2006" in run.log
    assert simulator.state()["pagerduty_incidents"][0]["status"] == "triggered"
