"""Supabase Credential Leak, end to end from its detector: a revoked staff token is used →
incident → owner notified → replacement key checked → rotation approved and run, which ticks
off revoke, sessions, confirm and summary with its evidence (none of them runs again) →
PagerDuty resolved. The rotation saga itself is
tested in depth by test_rotation_*.py; this walks the runbook through the engine."""

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from incidents.detectors import detectors_run_all
from incidents.models import Approval, Incident
from incidents.services import (
    approval_decide,
    incident_status_set,
    incident_step_complete,
    step_run_request,
)
from staff.services import api_token_create, api_token_revoke
from tests.incidents.e2e_support import (
    detected_paged_acknowledged,
    resolved_with_postmortem,
    worker_approved,
    worker_run,
)
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def _revoked_token_used(client, *, user, revoker) -> None:
    """The fault: a staff API token is revoked, then used anyway."""
    issued = api_token_create(user=user)
    api_token_revoke(token=issued.token, actor=revoker)
    client.get(reverse("staff-api:me"), headers={"authorization": f"Bearer {issued.plaintext}"})


def _prepared(world, incident, actor):
    """The rotation form: the leaked key entered once on the incident's rotation page."""
    from rotation.services import rotation_prepare

    return rotation_prepare(
        incident=incident,
        project=world.project,
        leaked_key=world.leaked,
        leaked_key_id=world.leaked_id,
        actor=actor,
    )


def test_credential_leak_runbook_end_to_end(
    world, client, client_for, admin_user, second_admin, ops_user, run_step, step_of, sync_tasks
):
    _revoked_token_used(client, user=ops_user, revoker=admin_user)
    detectors_run_all(only=("revoked_token_use",))
    incident = Incident.objects.get(runbook_key="credential_leak")

    assert run_step(incident, "pagerduty_trigger", ops_user).status == "succeeded"
    assert run_step(incident, "notify_owner", ops_user, project="production").status == "succeeded"
    fetched = run_step(incident, "fetch_key", ops_user, project="production")
    assert fetched.status == "succeeded" and world.new not in fetched.log

    # Mitigation: the rotation saga, approved by a second admin, through the engine.
    from rotation.services import rotation_request

    rotation = _prepared(world, incident, admin_user)
    approval = rotation_request(run=rotation, actor=admin_user)
    with sync_tasks():
        approval_decide(approval=approval, actor=second_admin, approve=True)
    assert step_of(incident, "update_envs").status == "done"
    assert not world.accepted(world.leaked)
    # The saga ticked off what it did, with its evidence and a link to the run; none of it
    # runs again (no second approval, nobody signed out a second time).
    link = f"/admin/rotation/rotationrun/{rotation.pk}/change/"
    for key, evidence in [
        ("revoke_key", "key revoked at"),
        ("invalidate_sessions", "admin sessions invalidated at"),
        ("confirm", "old key answered 401 at"),
        ("summary", "summary with the rotation timestamp posted at"),
    ]:
        step = step_of(incident, key)
        assert step.status == "done" and step.done_elsewhere == f"rotation #{rotation.pk}"
        assert evidence in step.note and link in step.note, step.note
    client_for(admin_user)  # signed in again after the rotation
    with pytest.raises(ValidationError, match=f"Already done by rotation #{rotation.pk}"):
        step_run_request(step=step_of(incident, "invalidate_sessions"), actor=ops_user)
    with pytest.raises(ValidationError):
        incident_step_complete(step=step_of(incident, "confirm"), actor=admin_user, note="again")
    assert Session.objects.exists()
    assert not Approval.objects.filter(step=step_of(incident, "invalidate_sessions")).exists()
    slack = [c["body"] for c in world.sim.calls("slack") if c["path"].endswith("postMessage")]
    assert sum("service-role key rotated at" in b["text"] for b in slack) == 1
    run_step(incident, "pagerduty_resolve", ops_user)
    [page] = world.sim.state()["pagerduty_incidents"]  # resolved through REST, with a note
    assert page["status"] == "resolved"
    assert page["notes"][0]["content"].startswith(f"Closed from OpsPortal incident #{incident.pk}")
    incident_status_set(
        incident=incident,
        status="resolved",
        actor=admin_user,
        note="the remaining steps do not apply",
    )
    assert AuditEntry.objects.filter(incident_id=incident.pk, action="incident.resolved").exists()
    incident.refresh_from_db()
    assert world.leaked not in incident.postmortem_markdown
    assert "`supabase_key_rotate`" in incident.postmortem_markdown


@pytest.fixture
def qcluster_env(world, moto_server):
    """The worker reaches Secrets Manager on the same moto server, mails to its console."""
    return {
        "EMAIL_URL": "consolemail://",
        "AWS_SECRETS_ENDPOINT_URL": moto_server,
        "AWS_REGION": "eu-west-1",
        "SECRETS_MANAGER_ENABLED": "true",
        "ROTATION_DEPLOY_POLL_SECONDS": "0.01",
        "ROTATION_DEPLOY_TIMEOUT_SECONDS": "5",
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_credential_leak_from_a_revoked_token_with_a_worker(
    world, qcluster, client, webhook_secret, admin_user, second_admin, ops_user
):
    """A revoked token used → detector → page + Slack → signed acknowledgement → owner
    notified and replacement checked by ops, the rotation approved by a second admin and run
    by the qcluster, which ticks off what it did → resolve."""
    from rotation.services import rotation_request

    _revoked_token_used(client, user=ops_user, revoker=admin_user)
    incident = detected_paged_acknowledged(
        world.sim, qcluster, client, detector="revoked_token_use", runbook="credential_leak"
    )
    notified = worker_run(qcluster, incident, "notify_owner", ops_user, project="production")
    assert notified.status == "succeeded", notified.error
    fetched = worker_run(qcluster, incident, "fetch_key", ops_user, project="production")
    assert fetched.status == "succeeded" and world.new not in fetched.log

    rotation = _prepared(world, incident, admin_user)
    run = worker_approved(qcluster, rotation_request(run=rotation, actor=admin_user), second_admin)
    assert run.status == "succeeded", (run.error, qcluster.log_tail())
    assert not world.accepted(world.leaked) and world.accepted(world.new)
    for key in ("revoke_key", "invalidate_sessions", "confirm", "summary"):
        step = incident.steps.get(key=key)
        assert step.status == "done" and step.done_elsewhere == f"rotation #{rotation.pk}", key
    with pytest.raises(ValidationError, match="Already done by rotation"):
        step_run_request(step=incident.steps.get(key="invalidate_sessions"), actor=ops_user)

    assert worker_run(qcluster, incident, "pagerduty_resolve", ops_user).status == "succeeded"
    markdown = resolved_with_postmortem(world.sim, qcluster, incident, admin_user)
    assert "key revoked at" in markdown and world.leaked not in markdown
