"""An admin approves a key rotation another admin requested; the requester's own approve
button is absent. The worker then runs the rotation against the simulator and moto."""

from rotation.models import RotationRun
from tests.e2e import seed

ROTATION_TIMEOUT = 120_000  # ms: worker pick-up, the saga's calls, the page refreshing itself


def test_second_admin_approves_a_rotation_the_requester_cannot(login, portal, worker, aws, shot):
    world = seed.leak_world(aws_env=aws)
    incident = seed.leak_incident(dedup_key="e2e-rotation")
    work = portal(f"/admin/incidents/incident/{incident.pk}/work/")

    requester = login("ada-admin")
    requester.goto(work)
    requester.click("#step-update_envs a:has-text('Prepare the key rotation')")
    requester.select_option("select[name=project]", label=str(world["project"]))
    requester.fill("input[name=leaked_key]", world["leaked"]["api_key"])
    requester.fill("input[name=leaked_key_id]", world["leaked"]["id"])
    requester.click("button:has-text('Prepare and request approval')")
    requester.wait_for_url("**/admin/rotation/rotationrun/*/change/")
    assert world["leaked"]["api_key"] not in requester.content()  # never shown back

    requester.goto(work)
    panel = requester.locator(".approval-panel")
    assert "pending" in panel.inner_text() and "ada-admin" in panel.inner_text()
    assert "another admin must decide it" in panel.inner_text()
    assert requester.locator("button[value=approve]").count() == 0  # never your own request
    shot(requester, "requester-sees-no-approve")

    approver = login("ben-admin")
    approver.goto(work)
    approver.locator(".approval-panel button[value=approve]").click()
    approver.wait_for_load_state()
    # The page updates in place while the rotation runs; the rotation ends by invalidating
    # every admin session, this one included: the next refresh lands on the login form.
    approver.locator("#step-update_envs .st-done, #login-form").first.wait_for(
        timeout=ROTATION_TIMEOUT
    )
    if approver.locator("#login-form").count():
        approver = login("ben-admin")
        approver.goto(work)
        approver.locator("#step-update_envs .st-done").first.wait_for(timeout=ROTATION_TIMEOUT)
    run = RotationRun.objects.get(incident=incident)
    assert run.status == RotationRun.Status.SUCCEEDED, (run.status, run.failed_step, run.error)
    vercel = {e["key"]: e["value"] for e in portal.sim.state_obj.vercel_env.values()}
    assert vercel["SUPABASE_SERVICE_ROLE_KEY"] == world["new"]["api_key"]
    assert "approved by ben-admin" in approver.locator("#step-update_envs").inner_text()
    shot(approver, "approved-and-rotated")
