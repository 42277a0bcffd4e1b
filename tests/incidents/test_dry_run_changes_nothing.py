import pytest
from django.contrib.sessions.models import Session

from audit.models import AuditEntry
from incidents.models import Approval
from incidents.services import step_run_request

pytestmark = pytest.mark.django_db


def test_dry_run_of_a_risky_step_needs_no_approval_and_changes_nothing(
    open_incident, step_of, ops_user, admin_user, client_for, sync_tasks
):
    client_for(admin_user)  # an admin session that a real run would delete
    sessions = Session.objects.count()
    incident = open_incident("credential_leak")
    step = step_of(incident, "invalidate_sessions")
    with sync_tasks():
        run = step_run_request(step=step, actor=ops_user, params={}, dry_run=True)
    run.refresh_from_db()
    step.refresh_from_db()
    assert run.status == "succeeded" and run.dry_run
    assert "would delete" in run.log and run.result["dry_run"] is True
    assert Session.objects.count() == sessions >= 1
    assert step.status == "pending"  # a dry run does not complete the step
    assert not Approval.objects.exists()
    assert not AuditEntry.objects.filter(action="staff.sessions_invalidated").exists()
    assert AuditEntry.objects.get(action="incident.step_run").data["dry_run"] is True


def test_dry_run_rolls_back_database_writes_the_action_makes(
    open_incident, step_of, ops_user, sync_tasks
):
    incident = open_incident("whatsapp_send")
    step = step_of(incident, "resolution_audit")
    with sync_tasks():
        run = step_run_request(step=step, actor=ops_user, params={"summary": "s"}, dry_run=True)
    run.refresh_from_db()
    assert run.status == "succeeded" and "rolled back" in run.log
    assert not AuditEntry.objects.filter(action="incident_resolution").exists()
    with sync_tasks():
        real = step_run_request(step=step, actor=ops_user, params={"summary": "s"})
    real.refresh_from_db()
    assert real.status == "succeeded"
    entry = AuditEntry.objects.get(action="incident_resolution")
    assert entry.incident_id == incident.pk and entry.data["summary"] == "s"
