"""The saga ticks off the runbook items it performed, with evidence and a link to its run;
none of them asks for a second approval or signs anyone out a second time; saga step 7 and
the runbook's 3.3 are one action once the key is revoked (a 3.3 from before does not count)."""

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from incidents.models import Approval, StepRun
from incidents.services import approval_decide, step_run_request
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_saga_marks_its_items_done_and_they_do_not_run_again(
    world, rotate, leak_incident, admin_user, ops_user, second_admin, sync_tasks
):
    pending = step_run_request(  # asked for before the rotation, never decided
        step=leak_incident.steps.get(key="invalidate_sessions"), actor=ops_user
    )
    run = rotate()
    assert run.status == "succeeded", run.error

    steps = {s.key: s for s in leak_incident.steps.all()}
    link = reverse("admin:rotation_rotationrun_change", args=[run.pk])
    revoked = run.steps.get(key="revoke_leaked_key").finished_at
    assert steps["revoke_key"].note.startswith(f"key revoked at {revoked:%Y-%m-%d %H:%M:%S} UTC")
    assert "old key answered 401 at" in steps["confirm"].note
    for key in (
        "notify_owner",
        "fetch_key",
        "revoke_key",
        "invalidate_sessions",
        "confirm",
        "summary",
    ):
        assert steps[key].status == "done" and link in steps[key].note, key
        assert steps[key].completed_by_name == f"rotation #{run.pk}"
    entries = leak_incident.timeline.filter(kind="step_done_elsewhere")
    assert entries.count() == 6 and entries.first().data["link"] == link
    pending.refresh_from_db()
    assert pending.status == "void"  # nothing left to approve

    after = _signed_in(ops_user)
    with pytest.raises(ValidationError, match="Already done by rotation"):
        step_run_request(step=steps["invalidate_sessions"], actor=ops_user)
    with pytest.raises(ValidationError):  # the void approval cannot be used either
        with sync_tasks():
            approval_decide(approval=pending, actor=second_admin, approve=True)
    assert not StepRun.objects.filter(step=steps["invalidate_sessions"]).exists()
    assert Approval.objects.filter(step=steps["invalidate_sessions"]).count() == 1
    assert after.get(reverse("admin:index")).status_code == 200  # not signed out again


def test_sessions_invalidated_in_step_3_3_before_the_revoke_are_invalidated_again(
    world, rotate, leak_incident, admin_user, ops_user, second_admin, sync_tasks
):
    """A sign-out from before the leaked key was revoked leaves every session opened since:
    the saga signs everyone out again after its revoke (an insider review's finding)."""
    approval = step_run_request(
        step=leak_incident.steps.get(key="invalidate_sessions"), actor=ops_user
    )
    with sync_tasks():
        approval_decide(approval=approval, actor=second_admin, approve=True)
    assert not Session.objects.exists()
    after = _signed_in(ops_user)  # signed in again once 3.3 ran, before the revoke

    run = rotate()
    assert run.status == "succeeded", run.error
    step7 = run.steps.get(key="invalidate_sessions")
    assert step7.data["sessions_deleted"] >= 1
    assert after.get(reverse("admin:index")).status_code == 302  # signed out by the saga
    done = leak_incident.steps.get(key="invalidate_sessions")
    assert done.done_elsewhere == "" and done.completed_by_name == ops_user.username
