"""The front page answers "what is broken and what do I do next" in a real browser: a red tile
after a probe, an open incident with its overdue escalation timer, a campaign's progress,
MTTA/MTTR as a chart, and the approvals waiting for this admin (not for the requester).
Also the status page with one red tile (README screenshot)."""

from tests.e2e import seed


def test_front_page_shows_what_is_broken_and_what_to_do_next(login, portal, worker, shot):
    seed.incident_history()
    incident = seed.whatsapp_incident(dedup_key="e2e-front", detected_minutes_ago=22)
    campaign = seed.campaign_started(
        name="Weekend fuel promo (Kigali)", targets=200, throttle_per_minute=30
    )
    _, approval = seed.risky_request(requester="ben-admin", dedup_key="e2e-front-leak")
    portal.sim.set_fault("voucher_png", status=503)

    page = login("ada-admin")
    # Probe now: the status page and its button are how people refresh the tiles.
    page.goto(portal("/admin/integrations/proberesult/"))
    page.click("input[name=probe_now]")
    page.wait_for_load_state()
    page.goto(portal("/admin/"))

    summary = page.locator("#frontpage-summary")
    assert "Needs attention" in summary.inner_text()
    assert summary.locator(".fp-red-integration[data-integration=voucher_png]").count() == 1
    assert (
        page.locator(".integration-tile[data-integration=voucher_png]").get_attribute("data-state")
        == "red"
    )

    row = page.locator(f"#fp-incidents tr[data-incident='{incident.pk}']")
    assert "overdue by" in row.locator(".fp-timers").inner_text()
    assert row.locator(".fp-next-step").inner_text().strip() != ""

    progress = page.locator(f"#fp-campaigns tr[data-campaign='{campaign.pk}'] .fp-progress")
    assert progress.get_attribute("data-total") == "200"
    assert 0 <= int(progress.get_attribute("data-done")) < 200  # sending, slowly

    assert page.locator("#fp-metrics svg.fp-chart rect.mttr").count() >= 4
    waiting = page.locator(f"#fp-approvals tr[data-approval='{approval.pk}']")
    assert waiting.locator("a.fp-review").count() == 1
    shot(page, "front-page", readme="front-page")

    # Keyboard: the review link is reachable and leads to the incident's approval panel.
    waiting.locator("a.fp-review").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/incidents/incident/{approval.incident_id}/work/**")

    # The requester sees the same request as waiting for someone else, with no review link.
    requester = login("ben-admin")
    mine = requester.locator(f"#fp-approvals tr[data-approval='{approval.pk}']")
    assert "another admin must approve" in mine.inner_text()
    assert mine.locator("a.fp-review").count() == 0

    page.goto(portal("/admin/integrations/proberesult/"))
    assert page.locator(".integration-tile.state-red").count() >= 1
    shot(page, "status-red", readme="status-red")


def test_front_page_for_an_auditor_has_no_approvals_and_no_buttons(login, portal, shot):
    page = login("aud-auditor")
    assert page.locator("#fp-incidents").count() == 1
    assert page.locator("#fp-approvals").count() == 0
    assert page.locator("#content-main input[type=submit], #content-main .addlink").count() == 0
    shot(page, "auditor-front-page")
