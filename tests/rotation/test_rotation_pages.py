"""A rotation on the pages people read: the approval panel in plain words (from the project
registry), and a rollback's loud "the leaked key is still active" on the incident page and the
front page, with the saga's steps by name and to the second."""

import pytest
from django.urls import reverse

from rotation.models import RotationRun
from rotation.services import rotation_prepare, rotation_request
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)
from tests.rotation.rotation_support import FUNCTION_SECRET, VERCEL_VAR

pytestmark = pytest.mark.django_db


def test_the_approval_panel_names_the_key_projects_functions_and_the_sign_out(
    world, leak_incident, admin_user, second_admin, client_for
):
    run = rotation_prepare(
        incident=leak_incident,
        project=world.project,
        leaked_key=world.leaked,
        leaked_key_id=world.leaked_id,
        actor=admin_user,
    )
    rotation_request(run=run, actor=admin_user)
    work = reverse("admin:incidents_incident_work", args=[leak_incident.pk])
    html = client_for(second_admin).get(work).content.decode()
    panel = html[html.index('id="incident-approvals"') : html.index('id="incident-summary"')]
    project = world.project
    assert f"Revokes the leaked key {run.leaked_fingerprint} (id {world.leaked_id})" in panel
    assert f"Supabase project {project.project_ref}" in panel
    assert f"Changes {VERCEL_VAR} in the Vercel project {project.vercel_project}" in panel
    assert f"redeploys {project.vercel_project}" in panel
    assert FUNCTION_SECRET in panel
    assert all(name in panel for name in project.edge_functions)
    assert "including yours as the approver" in panel
    assert admin_user.get_username() in panel  # the requester
    assert world.leaked not in html and "rotation_id" not in html and "{'" not in html


def test_a_rollback_says_the_leaked_key_is_still_active_here_and_on_the_front_page(
    world, rotate, leak_incident, second_admin, client_for
):
    world.sim.set_deploy_result("ERROR")
    run = rotate()
    assert run.status == RotationRun.Status.ROLLED_BACK

    client = client_for(second_admin)  # the rotation never reached the sign-out step
    work = reverse("admin:incidents_incident_work", args=[leak_incident.pk])
    live = client.get(reverse("admin:incidents_incident_live", args=[leak_incident.pk]))
    for html in (client.get(work).content.decode(), live.content.decode()):
        notices = html[html.index('id="incident-notices"') : html.index('id="incident-approvals"')]
        assert 'role="alert"' in notices
        assert f"The leaked key is still active: rotation #{run.pk}" in notices
        assert "rolled back at step 3 (Put the new key in Vercel and redeploy)" in notices
        assert "Resume" in notices
        assert reverse("admin:rotation_rotationrun_change", args=[run.pk]) in notices
        assert (
            "Fetch the new key from Secrets Manager" in notices
            and "fetch_replacement" not in notices
        )
        assert 'class="when when-exact"' in notices  # to the second, UTC on hover

    front = client.get(reverse("admin:index")).content.decode()
    banner = front[front.index("fp-leaked-key") : front.index('id="frontpage-summary"')]
    assert "The leaked key is still active" in banner
    assert reverse("admin:incidents_incident_work", args=[leak_incident.pk]) in banner
    assert "resume rotation" in banner

    rotation_page = client.get(reverse("admin:rotation_rotationrun_change", args=[run.pk]))
    assert "Put the new key in Vercel and redeploy" in rotation_page.content.decode()


def test_a_succeeded_rotation_raises_no_alarm(world, rotate, leak_incident, make_staff, client_for):
    run = rotate()
    assert run.status == RotationRun.Status.SUCCEEDED
    client = client_for(make_staff("admin", "after-rotation"))  # everyone was signed out
    html = client.get(reverse("admin:incidents_incident_work", args=[leak_incident.pk])).content
    assert b"succeeded: the leaked key is revoked" in html and b"still active" not in html
    assert b"fp-leaked-key" not in client.get(reverse("admin:index")).content
