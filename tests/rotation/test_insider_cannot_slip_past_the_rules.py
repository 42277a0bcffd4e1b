"""Holes an insider review found after the approvals, outcome-unknown and skip rules landed:
each is tried here the way an insider would, and refused."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from incidents.engine.execute import run_claim, runs_fail_stale
from incidents.models import Approval, StepRun
from incidents.services import (
    approval_decide,
    incident_status_set,
    incident_step_complete,
    step_run_request,
)
from rotation.models import RotationRun
from rotation.services import rotation_cancel, rotation_request
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def _lost(rotation, admin_user, second_admin) -> StepRun:
    """A rotation run approved, claimed by a worker that then stopped answering."""
    approval = rotation_request(run=rotation, actor=admin_user)
    approval_decide(approval=approval, actor=second_admin, approve=True)
    run = run_claim(StepRun.objects.get(approval=approval).pk)
    StepRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=2))
    assert runs_fail_stale() == 1
    run.refresh_from_db()
    assert run.status == "outcome_unknown"
    return run


def test_a_skip_request_or_a_denial_does_not_clear_outcome_unknown(
    prepared, admin_user, second_admin
):
    lost = _lost(prepared, admin_user, second_admin)
    step = lost.step
    # Asking to skip moves the step's status on; the lost run still needs "I checked".
    skip = incident_step_complete(step=step, actor=admin_user, note="x", skip=True)
    assert isinstance(skip, Approval)
    with pytest.raises(ValidationError, match="outcome is unknown"):
        rotation_request(run=prepared, actor=admin_user)

    # Confirmed once, then denied: the next request needs the confirmation again.
    approval = rotation_request(run=prepared, actor=admin_user, confirm_rerun=True)
    approval_decide(approval=approval, actor=second_admin, approve=False, comment="not yet")
    with pytest.raises(ValidationError, match="outcome is unknown"):
        rotation_request(run=prepared, actor=admin_user)


def test_the_owner_told_first_is_part_of_what_is_approved(
    prepared, world, admin_user, second_admin
):
    approval = rotation_request(run=prepared, actor=admin_user)
    world.project.owner_email = "someone-else@example.com"
    world.project.save()
    with pytest.raises(ValidationError, match="owner_email"):
        approval_decide(approval=approval, actor=second_admin, approve=True)
    assert not StepRun.objects.filter(approval=approval).exists()


def test_a_second_real_run_waits_for_the_first(leak_incident, ops_user):
    step = leak_incident.steps.get(key="summary")
    first = step_run_request(step=step, actor=ops_user)
    assert first.status == "queued"
    with pytest.raises(ValidationError, match=f"Run #{first.pk} .* still queued"):
        step_run_request(step=step, actor=ops_user)
    assert step.runs.filter(dry_run=False).count() == 1
    assert step_run_request(step=step, actor=ops_user, dry_run=True).dry_run  # a dry run may


def test_a_finished_step_is_not_ticked_or_skipped_again(leak_incident, support_user):
    step = leak_incident.steps.get(key="confirm")
    incident_step_complete(step=step, actor=support_user, note="checked with the old key")
    for skip in (False, True):
        with pytest.raises(ValidationError, match="already done"):
            incident_step_complete(step=step, actor=support_user, note="again", skip=skip)
    step.refresh_from_db()
    assert step.note == "checked with the old key"


def test_a_skip_is_not_approved_once_the_incident_is_resolved(
    leak_incident, admin_user, second_admin
):
    step = leak_incident.steps.get(key="invalidate_sessions")
    skip = incident_step_complete(step=step, actor=admin_user, note="no sessions", skip=True)
    incident_status_set(
        incident=leak_incident, status="resolved", actor=admin_user, note="false alarm"
    )
    with pytest.raises(ValidationError, match="no longer open"):
        approval_decide(approval=skip, actor=second_admin, approve=True)
    step.refresh_from_db()
    assert step.status != "skipped"


def test_cancelling_a_rolled_back_rotation_does_not_silence_the_alarm(
    world, rotate, leak_incident, ops_user, client_for
):
    world.sim.set_deploy_result("ERROR")
    run = rotate()
    assert run.status == RotationRun.Status.ROLLED_BACK
    rotation_cancel(run=run, actor=ops_user, reason="starting over later")

    client = client_for(ops_user)
    work = client.get(reverse("admin:incidents_incident_work", args=[leak_incident.pk]))
    assert f"The leaked key is still active: rotation #{run.pk}" in work.content.decode()
    assert "was cancelled after it stopped" in work.content.decode()
    front = client.get(reverse("admin:index")).content.decode()
    assert "The leaked key is still active" in front

    world.sim.set_deploy_result("READY")
    assert rotate().status == RotationRun.Status.SUCCEEDED  # a later rotation revokes it
    front = client.get(reverse("admin:index")).content.decode()
    assert "The leaked key is still active" not in front


def test_a_malformed_rotation_id_in_the_admin_url_is_not_found(client_for, support_user):
    client = client_for(support_user)
    response = client.get("/admin/rotation/rotationrun/abc/change/")
    assert response.status_code in (302, 404)
    assert reverse("admin:index") in response.get("Location", reverse("admin:index"))
