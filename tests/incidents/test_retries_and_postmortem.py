import pytest
from django.urls import reverse

from incidents.services import incident_status_set

pytestmark = pytest.mark.django_db


def test_a_safe_to_retry_action_is_retried_on_a_transient_failure(
    simulator, open_incident, run_step, support_user
):
    simulator.set_fault("supabase_management", status=500, times=1)
    run = run_step(open_incident("voucher_preview"), "ef_status", support_user)
    assert run.status == "succeeded" and run.attempts == 2
    assert "attempt 1/3 failed" in run.log


def test_an_unsafe_action_is_not_retried_and_fails_with_its_log(
    simulator, open_incident, run_step, ops_user
):
    simulator.set_fault("slack", status=500)
    run = run_step(open_incident("voucher_preview"), "tell_support", ops_user)
    assert run.status == "failed" and run.attempts == 1
    assert len([c for c in simulator.calls("slack")]) == 1
    assert "post to Slack" in run.error


def test_the_postmortem_is_downloadable_by_the_auditor_but_not_support(
    open_incident, ops_user, auditor_user, support_user, client_for
):
    incident = open_incident("station_redeem")
    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    url = reverse("admin:incidents_incident_postmortem", args=[incident.pk])
    response = client_for(auditor_user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    body = response.content.decode()
    assert body.startswith(f"# Postmortem draft — incident #{incident.pk}")
    assert "Status open → resolved" in body and "Time to resolve" in body
    assert client_for(support_user).get(url).status_code == 403
