"""A rotation run whose worker was lost mid-saga: the step run is *outcome unknown* with the
saga's own record of what was done; resuming it needs "I checked: run again"."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from incidents.engine.execute import run_claim, runs_fail_stale
from incidents.models import Approval, StepRun
from incidents.services import approval_decide
from rotation.models import RotationRun, RotationStep
from rotation.services import rotation_request
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def test_a_lost_rotation_worker_leaves_what_the_saga_recorded(
    prepared, admin_user, second_admin, client_for
):
    rotation = prepared
    approval = rotation_request(run=rotation, actor=admin_user)
    approval_decide(approval=approval, actor=second_admin, approve=True)
    run = run_claim(StepRun.objects.get(approval=approval).pk)  # the worker took it …
    RotationStep.objects.filter(run=rotation, number__lte=2).update(
        status="done", detail="recorded by the saga"
    )
    RotationStep.objects.filter(run=rotation, number=3).update(status="running")
    RotationRun.objects.filter(pk=rotation.pk).update(status="running")
    # … and stopped answering longer ago than the action's budget (its lease expired).
    StepRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=2))

    assert runs_fail_stale() == 1

    run.refresh_from_db()
    assert run.status == "outcome_unknown"
    assert "rotation step 1 notify_owner: done recorded by the saga" in run.result["known"]
    assert "rotation step 3 update_vercel: running" in run.result["known"]
    assert "rotation step 4" not in " ".join(run.result["known"])

    RotationRun.objects.filter(pk=rotation.pk).update(
        heartbeat_at=timezone.now() - timedelta(hours=2)
    )
    client = client_for(admin_user)
    page = client.get(reverse("admin:rotation_rotationrun_change", args=[rotation.pk]))
    assert 'name="confirm_rerun"' in page.content.decode()
    with pytest.raises(ValidationError, match="outcome is unknown"):
        rotation_request(run=rotation, actor=admin_user)
    act = reverse("admin:rotation_rotationrun_act", args=[rotation.pk])
    client.post(act, {"op": "resume", "confirm_rerun": "yes"})
    assert Approval.objects.filter(status="pending", step=run.step).exists()
    assert AuditEntry.objects.filter(action="incident.step_rerun_confirmed").count() == 1
