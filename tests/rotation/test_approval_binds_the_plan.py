"""An approved rotation covers the resolved plan (project ref, Vercel project and targets,
Edge Functions, secret id), not names: an edit after approval stops the run before its
first call, and the timeline says what changed."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from incidents.models import Approval, StepRun
from incidents.services import approval_decide
from incidents.tasks import step_run_execute
from rotation.models import RotationRun, SupabaseProject
from rotation.services import rotation_request
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)
from tests.rotation.rotation_support import nothing_changed

pytestmark = pytest.mark.django_db

OTHER_REF = "otherprojectrefabcdef"


@pytest.fixture
def approved(prepared, admin_user, second_admin):
    """A rotation approved by a second admin whose run is queued, not yet executed (the
    test transaction never commits, so the worker has not picked it up)."""
    approval = rotation_request(run=prepared, actor=admin_user)
    approval_decide(approval=approval, actor=second_admin, approve=True)
    return approval


def _admin_edit(client, project, **changes):
    fields = [
        "environment",
        "project_ref",
        "primary_owner",
        "owner_email",
        "owner_slack",
        "service_role_secret_id",
        "vercel_project",
    ]
    form = {name: getattr(project, name) for name in fields}
    for name in ("vercel_env_vars", "vercel_targets", "function_secret_names", "edge_functions"):
        form[name] = str(getattr(project, name)).replace("'", '"')
    form.update(changes)
    url = reverse("admin:rotation_supabaseproject_change", args=[project.pk])
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_approval_shows_and_binds_the_resolved_plan(world, approved, client_for, second_admin):
    assert approved.plan["project_ref"] == "easymoprodprojectref"
    assert approved.plan["secret_id"] == "prod/easymo/supabase/service-role"
    assert approved.plan["vercel_project"] == "station-web"
    assert approved.plan["vercel_targets"] == ["production", "preview"]
    assert approved.plan["edge_functions"] == ["voucher-png", "send-whatsapp"]
    entry = AuditEntry.objects.get(action="incident.approval_approved")
    assert entry.data["plan"]["project_ref"] == "easymoprodprojectref"


def test_a_project_ref_edited_in_the_admin_after_approval_stops_the_run(
    world, approved, client_for, admin_user
):
    run = StepRun.objects.get(approval=approved)
    _admin_edit(client_for(admin_user), world.project, project_ref=OTHER_REF)

    step_run_execute(run.pk)  # the worker picks the run up after the edit

    run.refresh_from_db()
    assert run.status == "cancelled"
    said = f"project_ref: 'easymoprodprojectref' → '{OTHER_REF}'"
    assert said in run.error and said in run.log
    timeline = list(approved.incident.timeline.values_list("message", flat=True))
    assert any(said in m and f"Run #{run.pk}" in m for m in timeline), timeline
    nothing_changed(world, RotationRun.objects.get(pk=approved.params["rotation_id"]))
    # The edit itself is audited by the admin site, field by field.
    edit = AuditEntry.objects.get(action="admin.changed", target_type="rotation.supabaseproject")
    assert edit.data["changes"]["project_ref"] == {
        "before": "easymoprodprojectref",
        "after": OTHER_REF,
    }
    assert edit.actor_name == admin_user.username


def test_targets_and_functions_edited_after_approval_are_named(
    world, approved, client_for, admin_user
):
    run = StepRun.objects.get(approval=approved)
    _admin_edit(
        client_for(admin_user),
        world.project,
        vercel_targets='["production"]',
        edge_functions='["voucher-png"]',
    )
    step_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert "vercel_targets: ['production', 'preview'] → ['production']" in run.error
    assert "edge_functions: ['voucher-png', 'send-whatsapp'] → ['voucher-png']" in run.error
    nothing_changed(world, RotationRun.objects.get(pk=approved.params["rotation_id"]))


def test_a_registry_row_swapped_after_approval_stops_the_run(world, approved):
    staging = SupabaseProject.objects.create(
        environment="staging",
        project_ref=OTHER_REF,
        primary_owner="Eve",
        service_role_secret_id="stg/other",
    )
    rotation = RotationRun.objects.get(pk=approved.params["rotation_id"])
    # The production row is repointed at another project's record, behind the page's back.
    SupabaseProject.objects.filter(pk=world.project.pk).update(environment="old-production")
    SupabaseProject.objects.filter(pk=staging.pk).update(environment="production")
    RotationRun.objects.filter(pk=rotation.pk).update(project=staging)

    run = StepRun.objects.get(approval=approved)
    step_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert f"project_record: {world.project.pk} → {staging.pk}" in run.error
    assert "secret_id: 'prod/easymo/supabase/service-role' → 'stg/other'" in run.error
    assert [c for c in world.sim.calls() if c["method"] != "GET"] == []


def test_an_edit_between_request_and_decision_cannot_be_approved(
    world, prepared, admin_user, second_admin
):
    rotation = prepared
    approval = rotation_request(run=rotation, actor=admin_user)
    SupabaseProject.objects.filter(pk=world.project.pk).update(project_ref=OTHER_REF)
    with pytest.raises(ValidationError, match="project_ref"):
        approval_decide(approval=approval, actor=second_admin, approve=True)
    approval.refresh_from_db()
    assert approval.status == "pending" and not approval.runs.exists()
    # Asked again, the new request binds the new plan and voids the old one.
    fresh = rotation_request(run=rotation, actor=admin_user)
    assert fresh.pk != approval.pk and fresh.plan["project_ref"] == OTHER_REF
    approval.refresh_from_db()
    assert approval.status == Approval.Status.VOID


def test_an_unchanged_plan_runs(world, approved, sync_tasks):
    run = StepRun.objects.get(approval=approved)
    step_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.log
    assert world.vercel_value() == world.new


def test_the_approver_sees_the_plan_on_the_incident_page(
    world, prepared, leak_incident, admin_user, second_admin, client_for
):
    rotation_request(run=prepared, actor=admin_user)
    url = reverse("admin:incidents_incident_work", args=[leak_incident.pk])
    page = client_for(second_admin).get(url).content.decode()
    assert "What the run will act on" in page
    for value in ("easymoprodprojectref", "prod/easymo/supabase/service-role", "send-whatsapp"):
        assert value in page
