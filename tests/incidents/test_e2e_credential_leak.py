"""Supabase Credential Leak, end to end from its detector: a revoked staff token is used →
incident → owner notified → replacement key checked → rotation approved and run → sessions
invalidated (approved) → summary in #ops → PagerDuty resolved. The rotation saga itself is
tested in depth by test_rotation_*.py; this walks the runbook through the engine."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from audit.models import AuditEntry
from incidents.detectors import detectors_run_all
from incidents.models import Incident, StepRun
from incidents.services import (
    approval_decide,
    incident_status_set,
    incident_step_complete,
    step_run_request,
)
from staff.services import api_token_create, api_token_revoke
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def test_credential_leak_runbook_end_to_end(
    world, client, client_for, admin_user, second_admin, ops_user, run_step, step_of, sync_tasks
):
    issued = api_token_create(user=ops_user)
    api_token_revoke(token=issued.token, actor=admin_user)
    client.get(reverse("staff-api:me"), headers={"authorization": f"Bearer {issued.plaintext}"})
    detectors_run_all(only=("revoked_token_use",))
    incident = Incident.objects.get(runbook_key="credential_leak")

    assert run_step(incident, "pagerduty_trigger", ops_user).status == "succeeded"
    assert run_step(incident, "notify_owner", ops_user, project="production").status == "succeeded"
    fetched = run_step(incident, "fetch_key", ops_user, project="production")
    assert fetched.status == "succeeded" and world.new not in fetched.log

    # Mitigation: the rotation saga, approved by a second admin, through the engine.
    from rotation.services import rotation_prepare, rotation_request

    rotation = rotation_prepare(
        incident=incident,
        project=world.project,
        leaked_key=world.leaked,
        leaked_key_id=world.leaked_id,
        actor=admin_user,
    )
    approval = rotation_request(run=rotation, actor=admin_user)
    with sync_tasks():
        approval_decide(approval=approval, actor=second_admin, approve=True)
    assert step_of(incident, "update_envs").status == "done"
    assert not world.accepted(world.leaked)
    incident_step_complete(
        step=step_of(incident, "revoke_key"),
        actor=admin_user,
        note="revoked by the rotation (step 5)",
    )

    client_for(admin_user)  # a live admin session the invalidation must end
    sessions = step_run_request(
        step=step_of(incident, "invalidate_sessions"),
        actor=ops_user,
        params={"revoke_api_tokens": True},
    )
    with sync_tasks():
        approval_decide(approval=sessions, actor=second_admin, approve=True, comment="yes")
    assert StepRun.objects.get(approval=sessions).status == "succeeded"
    assert not Session.objects.exists()

    incident_step_complete(
        step=step_of(incident, "confirm"), actor=admin_user, note="Admin API refuses the leaked key"
    )
    run_step(incident, "summary", ops_user, text="Service-role key rotated at 22:10 UTC.")
    slack = [c["body"] for c in world.sim.calls("slack") if c["path"].endswith("postMessage")]
    assert any(b["channel"] == "#ops" and "rotated at 22:10 UTC" in b["text"] for b in slack)
    run_step(incident, "pagerduty_resolve", ops_user)
    [page] = world.sim.state()["pagerduty_incidents"]  # resolved through REST, with a note
    assert page["status"] == "resolved"
    assert page["notes"][0]["content"].startswith(f"Closed from OpsPortal incident #{incident.pk}")
    incident_status_set(incident=incident, status="resolved", actor=admin_user)
    assert AuditEntry.objects.filter(incident_id=incident.pk, action="incident.resolved").exists()
    incident.refresh_from_db()
    assert world.leaked not in incident.postmortem_markdown
    assert "`supabase_key_rotate`" in incident.postmortem_markdown
