"""The approval rules, through the service and the worker (the admin and API entry points
have their own test files and call the same service)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEntry
from incidents.models import Approval, StepRun
from incidents.services import approval_decide, step_run_request
from incidents.tasks import step_run_execute

pytestmark = pytest.mark.django_db


@pytest.fixture
def risky_step(open_incident, step_of):
    return step_of(open_incident("credential_leak"), "invalidate_sessions")


def test_a_risky_step_asks_for_approval_instead_of_running(risky_step, ops_user):
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    assert isinstance(approval, Approval) and approval.status == "pending"
    assert not StepRun.objects.exists()
    risky_step.refresh_from_db()
    assert risky_step.status == "awaiting_approval"
    assert (approval.expires_at - approval.requested_at) == timedelta(minutes=30)


def test_support_cannot_even_request_a_risky_step(risky_step, support_user):
    with pytest.raises(PermissionDenied):
        step_run_request(step=risky_step, actor=support_user, params={})


def test_nobody_approves_their_own_request(risky_step, admin_user):
    approval = step_run_request(step=risky_step, actor=admin_user, params={})
    with pytest.raises(PermissionDenied, match="You cannot approve your own request"):
        approval_decide(approval=approval, actor=admin_user, approve=True)
    approval.refresh_from_db()
    assert approval.status == "pending" and not StepRun.objects.exists()


def test_ops_cannot_approve(risky_step, ops_user, make_staff):
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    with pytest.raises(PermissionDenied):
        approval_decide(approval=approval, actor=make_staff("ops", "other-ops"), approve=True)


def test_an_admin_approves_and_the_run_executes_with_the_approved_params(
    risky_step, ops_user, admin_user, client_for, sync_tasks
):
    client_for(admin_user)
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    with sync_tasks():
        approval_decide(approval=approval, actor=admin_user, approve=True, comment="go")
    run = StepRun.objects.get()
    assert run.status == "succeeded", run.log
    assert run.actor == ops_user and run.approval_id == approval.pk
    assert not Session.objects.exists()
    approval.refresh_from_db()
    assert approval.status == "used" and approval.decided_by == admin_user
    audit = AuditEntry.objects.get(action="incident.step_run")
    assert audit.data["approved_by"] == "ada-admin"
    assert AuditEntry.objects.filter(action="incident.approval_approved").exists()


def test_deny_needs_a_comment_and_is_audited(risky_step, ops_user, admin_user):
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    with pytest.raises(ValidationError):
        approval_decide(approval=approval, actor=admin_user, approve=False)
    approval_decide(approval=approval, actor=admin_user, approve=False, comment="not now")
    approval.refresh_from_db()
    assert approval.status == "denied" and not StepRun.objects.exists()
    entry = AuditEntry.objects.get(action="incident.approval_denied")
    assert entry.data["comment"] == "not now" and entry.actor == admin_user


def test_an_expired_request_cannot_be_approved(risky_step, ops_user, admin_user):
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    Approval.objects.filter(pk=approval.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        approval_decide(approval=approval, actor=admin_user, approve=True)


def test_new_parameters_void_the_pending_request(risky_step, ops_user, admin_user):
    first = step_run_request(step=risky_step, actor=ops_user, params={})
    second = step_run_request(step=risky_step, actor=ops_user, params={"revoke_api_tokens": "true"})
    first.refresh_from_db()
    assert first.status == "void" and second.status == "pending"
    with pytest.raises(ValidationError):
        approval_decide(approval=first, actor=admin_user, approve=True)


def test_the_approver_must_have_seen_the_current_parameters(risky_step, ops_user, admin_user):
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    with pytest.raises(ValidationError, match="parameters changed"):
        approval_decide(
            approval=approval, actor=admin_user, approve=True, params_hash_seen="0" * 64
        )


def test_the_worker_refuses_a_run_whose_approval_expired_before_it_started(
    risky_step, ops_user, admin_user, client_for
):
    client_for(admin_user)
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    approval_decide(approval=approval, actor=admin_user, approve=True)  # on_commit not run
    Approval.objects.filter(pk=approval.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    run = StepRun.objects.get()
    assert step_run_execute(run.pk) == "cancelled"
    run.refresh_from_db()
    assert "expired" in run.error and Session.objects.exists()


def test_the_worker_refuses_a_run_whose_params_differ_from_the_approved_ones(
    risky_step, ops_user, admin_user, client_for
):
    client_for(admin_user)
    approval = step_run_request(step=risky_step, actor=ops_user, params={})
    approval_decide(approval=approval, actor=admin_user, approve=True)
    run = StepRun.objects.get()
    # Someone rewrites the queued run's parameters (and its hash) behind the service's back.
    from incidents.engine.params import params_hash

    tampered = {"revoke_api_tokens": True}
    StepRun.objects.filter(pk=run.pk).update(
        params=tampered,
        params_hash=params_hash(action_key=run.action_key, step_id=run.step_id, params=tampered),
    )
    assert step_run_execute(run.pk) == "cancelled"
    run.refresh_from_db()
    assert "differ from the approved" in run.error and Session.objects.exists()


def test_the_worker_refuses_a_risky_run_without_approval_or_self_approved(
    risky_step, ops_user, admin_user
):
    from incidents.engine.queue import run_create as step_run_create

    unapproved = step_run_create(
        step=risky_step, action_key="admin_sessions_invalidate", params={}, actor=ops_user
    )
    assert step_run_execute(unapproved.pk) == "cancelled"
    approval = step_run_request(step=risky_step, actor=admin_user, params={})
    Approval.objects.filter(pk=approval.pk).update(
        status="approved", decided_by=admin_user, decided_at=timezone.now()
    )
    approval.refresh_from_db()
    forged = step_run_create(
        step=risky_step,
        action_key="admin_sessions_invalidate",
        params=approval.params,
        actor=admin_user,
        approval=approval,
    )
    assert step_run_execute(forged.pk) == "cancelled"
    forged.refresh_from_db()
    assert "cannot approve your own request" in forged.error
