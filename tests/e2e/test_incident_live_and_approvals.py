"""The incident page live, and a key rotation approved at 3 a.m., as the admins concerned:

- the approver sees, at the top, what approving will do (key, projects, functions, the sign-out
  of everyone including them), who asked and when it expires; axe-core finds nothing serious
  and the panel fits a phone;
- while the rotation runs (Vercel slowed down in the simulator) the step shows "running",
  its elapsed time and its log lines as they are written — without a reload, and a half-typed
  note (in the step and in the incident's note box) survives every refresh;
- the rotation signs everyone out: the page goes to the login form, which says why;
- a rotation that rolls back puts "the leaked key is still active" on the incident page and
  the front page; in dark mode every pill there is readable; nothing scrolls sideways at 390 px.
"""

from rotation.models import RotationRun
from rotation.services import rotation_cancel, rotation_prepare, rotation_request
from tests.e2e import seed
from tests.e2e.readable import (
    PHONE,
    contrast,
    no_horizontal_scroll,
    page_is_dark,
    serious_violations,
    set_theme,
    too_wide,
    unnamed_controls,
)

ROTATION_TIMEOUT = 120_000  # ms


def _rotation_requested(world, incident, requester="ada-admin") -> RotationRun:
    run = rotation_prepare(
        incident=incident,
        project=world["project"],
        leaked_key=world["leaked"]["api_key"],
        leaked_key_id=world["leaked"]["id"],
        actor=seed.person(requester),
    )
    rotation_request(run=run, actor=seed.person(requester))
    return run


def test_approving_a_rotation_live_page_and_the_sign_out_message(login, portal, worker, aws, shot):
    world = seed.leak_world(aws_env=aws)
    incident = seed.leak_incident(dedup_key="e2e-live-rotation")
    run = _rotation_requested(world, incident)
    work = portal(f"/admin/incidents/incident/{incident.pk}/work/")

    phone = login("ben-admin", viewport=PHONE)
    phone.goto(work)
    phone.locator(".approval-panel").wait_for()
    assert no_horizontal_scroll(phone), too_wide(phone)
    shot(phone, "approval-panel-phone", readme="approval-panel-phone")
    set_theme(phone, "dark")
    assert page_is_dark(phone)
    colours = contrast(phone, ".approval-panel, .approval-panel .pill, #incident-live .pill")
    bad = [c for c in colours if c["color"] == c["background"] or c["ratio"] < 3]
    assert colours and bad == [], bad

    approver = login("ben-admin")
    approver.goto(work)
    panel = approver.locator(".approval-panel")
    text = panel.inner_text()
    assert "Approval needed: Rotate the Supabase service-role key" in text
    assert f"Revokes the leaked key {run.leaked_fingerprint} (id {world['leaked']['id']})" in text
    assert "Vercel project station-web" in text and "redeploys station-web" in text
    assert "voucher-png" in text and "send-whatsapp" in text
    assert "including yours as the approver" in text
    assert "ada-admin" in text and "expires" in text
    assert "{'" not in approver.locator("#content-main").inner_text()  # no raw parameters
    assert serious_violations(approver) == []
    # Every button and field has a name; the steps' buttons say which step they act on.
    assert unnamed_controls(approver, "#incident-live") == []
    for button in approver.locator("#incident-live button[value=run], button[value=skip]").all():
        assert "step" in button.get_attribute("aria-label"), button.inner_text()
    shot(approver, "approval-panel", readme="approval-panel")

    portal.sim.set_fault("vercel", latency_ms=1200)  # step 3 takes a while: watch it run
    approver.locator("button[value=approve]").click()
    approver.wait_for_load_state()
    approver.evaluate("window.__noReload = true")
    step = approver.locator("#step-update_envs")
    step.locator("input[name=note]").fill("Vercel is slow today")
    approver.fill("#incident-note-text", "Half-typed: approved after a call with Gr")
    approver.locator("h2:has-text('Timeline')").click()  # focus leaves the inputs

    step.locator(".inc-step-elapsed:has-text('running for')").wait_for(timeout=ROTATION_TIMEOUT)
    step.locator("pre.log:has-text('1. notify_owner')").wait_for(timeout=ROTATION_TIMEOUT)
    assert "running" in step.locator(".pill.st-running").first.inner_text()
    assert approver.evaluate("window.__noReload") is True  # swapped in place, never reloaded
    assert step.locator("input[name=note]").input_value() == "Vercel is slow today"
    assert (
        approver.input_value("#incident-note-text") == "Half-typed: approved after a call with Gr"
    )
    shot(approver, "incident-live-running", readme="incident-live")
    portal.sim.clear_faults()

    # The rotation ends every session, this one included: the page lands on the login form.
    notice = approver.locator("#signed-out-notice")
    notice.wait_for(timeout=ROTATION_TIMEOUT)
    assert (
        f"You were signed out because the key rotation for incident #{incident.pk} "
        "invalidated all sessions at"
    ) in notice.inner_text()
    shot(approver, "signed-out-notice", readme="signed-out")
    run.refresh_from_db()
    assert run.status == RotationRun.Status.SUCCEEDED, (run.status, run.failed_step, run.error)


def test_a_rolled_back_rotation_is_loud_readable_in_dark_mode_and_fits_a_phone(
    login, portal, worker, aws, shot
):
    world = seed.leak_world(aws_env=aws)
    incident = seed.leak_incident(dedup_key="e2e-rollback")
    run = _rotation_requested(world, incident)
    portal.sim.set_deploy_result("ERROR")
    try:
        admin = login("ben-admin")
        work = portal(f"/admin/incidents/incident/{incident.pk}/work/")
        admin.goto(work)
        admin.locator(".approval-panel button[value=approve]").click()
        admin.wait_for_load_state()
        # The page updates by itself once the rotation has rolled back.
        banner = admin.locator("#incident-notices .portal-notice-red")
        banner.wait_for(timeout=ROTATION_TIMEOUT)
        assert "The leaked key is still active" in banner.inner_text()
        assert "Put the new key in Vercel and redeploy" in banner.inner_text()
        assert "Resume" in banner.inner_text()
        assert serious_violations(admin) == []
        shot(admin, "rollback-banner-incident", readme="rollback-banner")

        admin.goto(portal("/admin/"))
        front = admin.locator(".fp-leaked-key")
        assert "The leaked key is still active" in front.inner_text()
        assert front.locator(f"a[href$='/incident/{incident.pk}/work/']").count() == 1
        shot(admin, "rollback-banner-front", readme="rollback-banner-front")

        admin.goto(work)
        for theme in ("dark", "os-dark"):
            set_theme(admin, theme)
            assert page_is_dark(admin)
            pills = contrast(admin, "#incident-live .pill, .approval-panel, .portal-notice")
            assert pills, "no pills on the incident page"
            bad = [p for p in pills if p["color"] == p["background"] or p["ratio"] < 3]
            assert bad == [], bad
        shot(admin, "incident-dark", readme="incident-dark")

        phone = login("ben-admin", viewport=PHONE)
        for path in (f"/admin/incidents/incident/{incident.pk}/work/", "/admin/"):
            phone.goto(portal(path))
            assert no_horizontal_scroll(phone), (path, too_wide(phone))
        phone.goto(work)
        shot(phone, "incident-phone", readme="incident-phone")
    finally:
        portal.sim.set_deploy_result("READY")
        run.refresh_from_db()
        if run.status in RotationRun.RESUMABLE:  # leave the project free for other flows
            rotation_cancel(run=run, actor=seed.person("ada-admin"), reason="e2e done")
