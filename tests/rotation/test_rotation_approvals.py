"""The two-person rule on rotations, through incidents.services.approvals, and the dry run."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents.models import Approval, StepRun
from incidents.services import approval_decide
from rotation.models import RotationRun
from rotation.services import rotation_prepare, rotation_request
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)
from tests.rotation.rotation_support import nothing_changed

pytestmark = pytest.mark.django_db


def test_the_requester_cannot_approve_their_own_rotation(world, prepared, admin_user):
    approval = rotation_request(run=prepared, actor=admin_user)
    assert isinstance(approval, Approval)
    with pytest.raises(PermissionDenied, match="own request"):
        approval_decide(approval=approval, actor=admin_user, approve=True)
    assert not StepRun.objects.filter(dry_run=False).exists()
    nothing_changed(world, prepared)


def test_ops_may_request_but_not_approve(world, prepared, admin_user, ops_user):
    approval = rotation_request(run=prepared, actor=admin_user)
    with pytest.raises(PermissionDenied):
        approval_decide(approval=approval, actor=ops_user, approve=True)
    nothing_changed(world, prepared)


def test_an_expired_approval_is_refused_at_decision_and_at_run_time(
    world, prepared, admin_user, second_admin, sync_tasks
):
    approval = rotation_request(run=prepared, actor=admin_user)
    Approval.objects.filter(pk=approval.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        approval_decide(approval=approval, actor=second_admin, approve=True)
    nothing_changed(world, prepared)

    # Approved in time, but the worker only gets to it after the approval expired.
    fresh = rotation_request(run=prepared, actor=admin_user)
    with sync_tasks():
        approval_decide(approval=fresh, actor=second_admin, approve=True)
        Approval.objects.filter(pk=fresh.pk).update(expires_at=timezone.now())
    run = StepRun.objects.get(approval=fresh)
    assert run.status == "cancelled" and "expired" in run.error
    nothing_changed(world, prepared)


def test_the_approval_is_bound_to_the_project_and_the_leaked_key_fingerprint(
    world, prepared, admin_user, second_admin, sync_tasks
):
    approval = rotation_request(run=prepared, actor=admin_user)
    assert approval.params == {
        "rotation_id": prepared.pk,
        "project": "production",
        "leaked_key_fingerprint": prepared.leaked_fingerprint,
    }
    # Someone changes the rotation's key fingerprint behind the approval's back: the plan
    # the approver reviewed is not the one any more (test_approval_binds_the_plan.py).
    RotationRun.objects.filter(pk=prepared.pk).update(leaked_fingerprint="sb_sec…000000000000")
    with sync_tasks(), pytest.raises(ValidationError, match="leaked_key: "):
        approval_decide(approval=approval, actor=second_admin, approve=True)
    assert not StepRun.objects.filter(approval=approval).exists()
    RotationRun.objects.filter(pk=prepared.pk).update(
        leaked_fingerprint=approval.params["leaked_key_fingerprint"]
    )
    nothing_changed(world, prepared)


def test_support_cannot_prepare_a_rotation(world, leak_incident, support_user):
    with pytest.raises(PermissionDenied):
        rotation_prepare(
            incident=leak_incident,
            project=world.project,
            leaked_key=world.leaked,
            leaked_key_id=world.leaked_id,
            actor=support_user,
        )
    assert not RotationRun.objects.exists()


@pytest.mark.parametrize(
    "key, key_id, message",
    [
        ("not-a-key", "", "does not look like"),
        ("sb_secret_abcdefghijkl", "", "key's id"),
    ],
)
def test_bad_input_is_refused_clearly(world, leak_incident, admin_user, key, key_id, message):
    with pytest.raises(ValidationError, match=message):
        rotation_prepare(
            incident=leak_incident,
            project=world.project,
            leaked_key=key,
            leaked_key_id=key_id,
            actor=admin_user,
        )


def test_one_unfinished_rotation_per_project(world, prepared, leak_incident, admin_user):
    again = rotation_prepare(
        incident=leak_incident,
        project=world.project,
        leaked_key=world.leaked,
        leaked_key_id=world.leaked_id,
        actor=admin_user,
    )
    assert again == prepared
    with pytest.raises(ValidationError, match="resume or cancel"):
        rotation_prepare(
            incident=leak_incident,
            project=world.project,
            leaked_key="sb_secret_someotherkey123",
            leaked_key_id="key-x",
            actor=admin_user,
        )


def test_dry_run_lists_every_call_with_keys_masked_and_changes_nothing(
    world, prepared, ops_user, sync_tasks
):
    with sync_tasks():
        run = rotation_request(run=prepared, actor=ops_user, dry_run=True)
    run.refresh_from_db()
    assert run.status == "succeeded", run.log
    log = run.log
    for expected in [
        "Slack chat.postMessage channel=U0GRACE",
        "GetSecretValue SecretId=prod/easymo/supabase/service-role (AWSCURRENT)",
        "POST /v10/projects/station-web/env?upsert=true {key: SUPABASE_SERVICE_ROLE_KEY, "
        "value: [new key from Secrets Manager, masked]",
        f"deploymentId: {world.production()}, target: production}}: would redeploy "
        f"{world.production()}",
        "/v1/projects/easymoprodprojectref/secrets",
        "/auth/v1/admin/users?per_page=1 with apikey=[new key from Secrets Manager, masked]",
        f"DELETE {world.sim.url}/supabase/v1/projects/easymoprodprojectref/api-keys/{world.leaked_id}"
        "?was_compromised=true",
        "delete all",
        "expect 401",
        "channel=#ops",
    ]:
        assert expected in log, expected
    assert world.leaked not in log and world.new not in log
    nothing_changed(world, prepared)


def test_self_approval_is_refused_through_the_incident_page_too(
    world, prepared, admin_user, client_for, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    approval = rotation_request(run=prepared, actor=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(
            reverse("admin:incidents_incident_act", args=[prepared.incident_id]),
            {"op": "approve", "approval": approval.pk, "params_hash": approval.params_hash},
        )
    assert response.status_code in (302, 403)
    approval.refresh_from_db()
    assert approval.status == "pending" and not approval.runs.exists()
    nothing_changed(world, prepared)
