"""Skipping or ticking a step needs the permission running it needs (a risky step: a second
person's approval as well); resolving with runbook steps pending needs a reason and lists
them. Through the incident page, the staff API and the services alike."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from incidents.models import Approval
from incidents.services import (
    approval_decide,
    incident_postmortem_get,
    incident_status_set,
    incident_step_complete,
)

pytestmark = pytest.mark.django_db


def _page_skip(client, step, note="not needed"):
    url = reverse("admin:incidents_incident_act", args=[step.incident_id])
    return client.post(url, {"op": "skip", "step": step.pk, "note": note})


def _api_complete(client, step, **body):
    url = reverse("staff-api:incident-step-complete", args=[step.incident_id, step.key])
    return client.post(url, body, content_type="application/json")


@pytest.mark.parametrize(
    "runbook, key",
    [("station_redeem", "void_replace"), ("credential_leak", "invalidate_sessions")],
)
def test_support_cannot_skip_an_operational_or_risky_step(
    open_incident, step_of, support_user, client_for, runbook, key
):
    incident = open_incident(runbook, dedup_key="perm")
    step = step_of(incident, key)
    client = client_for(support_user)
    assert _page_skip(client, step).status_code == 403
    response = _api_complete(client, step, skip=True, note="not needed")
    assert response.status_code == 403
    with pytest.raises(PermissionDenied, match="permission running it needs"):
        incident_step_complete(step=step, actor=support_user, note="x", skip=True)
    step.refresh_from_db()
    assert step.status == "pending"
    assert not AuditEntry.objects.filter(action="incident.step_skipped").exists()
    assert not Approval.objects.exists()


def test_ops_skips_an_operational_step_it_may_run_and_support_ticks_a_checklist_item(
    open_incident, step_of, ops_user, support_user, client_for
):
    incident = open_incident("station_redeem")
    step = step_of(incident, "scope")
    response = _api_complete(client_for(ops_user), step, skip=True, note="no scope mismatch")
    assert response.status_code == 200 and response.json()["step"]["status"] == "skipped"
    assert AuditEntry.objects.get(action="incident.step_skipped").data["note"] == (
        "no scope mismatch"
    )
    detected = step_of(open_incident("whatsapp_send"), "detected")
    response = _api_complete(client_for(support_user), detected, note="seen on the dashboard")
    assert response.status_code == 200 and response.json()["step"]["status"] == "done"


def test_a_risky_step_is_skipped_only_with_a_second_persons_approval(
    open_incident, step_of, admin_user, second_admin, client_for
):
    incident = open_incident("credential_leak", dedup_key="skip")
    step = step_of(incident, "invalidate_sessions")
    response = _page_skip(client_for(admin_user), step, note="sessions already ended")
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.status == "awaiting_approval"
    approval = Approval.objects.get(step=step)
    assert approval.kind == "skip" and approval.params == {"note": "sessions already ended"}
    with pytest.raises(PermissionDenied, match="own request"):
        approval_decide(approval=approval, actor=admin_user, approve=True)

    approval_decide(approval=approval, actor=second_admin, approve=True)
    step.refresh_from_db()
    assert step.status == "skipped" and not approval.runs.exists()
    entry = AuditEntry.objects.get(action="incident.step_skipped")
    assert entry.actor_name == admin_user.username
    assert entry.data["approved_by"] == second_admin.username
    assert incident.timeline.filter(
        kind="step_skipped", message__contains=f"approved by {second_admin.username}"
    ).exists()


def test_the_staff_api_answers_a_risky_skip_with_the_approval_it_needs(
    open_incident, step_of, admin_user, client_for
):
    step = step_of(open_incident("credential_leak", dedup_key="api"), "invalidate_sessions")
    response = _api_complete(client_for(admin_user), step, skip=True, note="not needed")
    assert response.status_code == 202
    assert response.json()["approval"]["kind"] == "skip"
    step.refresh_from_db()
    assert step.status == "awaiting_approval"


def test_resolving_with_steps_pending_needs_a_reason_and_lists_them(
    open_incident, step_of, ops_user, client_for
):
    incident = open_incident("station_redeem")
    client = client_for(ops_user)
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    response = client.post(url, {"op": "status", "status": "resolved"}, follow=True)
    assert "still pending" in response.content.decode()
    assert "Say why you resolve" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "open"
    with pytest.raises(ValidationError, match="void_replace|If double redemption"):
        incident_status_set(incident=incident, status="resolved", actor=ops_user, note="  ")

    client.post(url, {"op": "status", "status": "resolved", "note": "vendor fixed the scanner"})
    incident.refresh_from_db()
    assert incident.status == "resolved"
    entry = incident.timeline.get(kind="resolved_with_pending")
    keys = [p["key"] for p in entry.data["pending"]]
    assert "void_replace" in keys and "vendor_support" in keys
    assert "Reason: vendor fixed the scanner" in entry.message
    assert "If double redemption" in entry.message
    resolved = AuditEntry.objects.get(action="incident.resolved")
    assert resolved.data["note"] == "vendor fixed the scanner"
    assert "void_replace" in [p["key"] for p in resolved.data["pending_steps"]]
    postmortem = incident_postmortem_get(incident=incident, actor=ops_user)
    assert "## Resolved with steps pending" in postmortem
    assert "vendor fixed the scanner" in postmortem and "`void_replace` (pending)" in postmortem


def test_resolving_with_every_step_done_or_skipped_needs_no_reason(
    open_incident, step_of, ops_user
):
    incident = open_incident("station_redeem")
    for step in incident.steps.exclude(status__in=("done", "skipped")):
        incident_step_complete(step=step, actor=ops_user, note="does not apply", skip=True)
    incident_status_set(incident=incident, status="resolved", actor=ops_user)
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert not incident.timeline.filter(kind="resolved_with_pending").exists()
