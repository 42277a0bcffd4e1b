"""The incident page on a laptop: no horizontal scrolling at 1280 px, every step's button
reachable with the keyboard, and the whole page working with JavaScript switched off (plain
forms; the page never reloads itself, its "Refresh" link shows the run's progress)."""

from tests.e2e import seed

LAPTOP_SMALL = {"width": 1280, "height": 720}
STEP_DONE_TIMEOUT = 60_000


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_incident_page_fits_a_laptop_and_runs_a_step_from_the_keyboard(login, portal, worker, shot):
    incident = seed.whatsapp_incident(dedup_key="e2e-usability-kb", detected_minutes_ago=20)
    page = login("olga-ops", viewport=LAPTOP_SMALL)
    page.goto(portal(f"/admin/incidents/incident/{incident.pk}/work/"))
    assert _no_horizontal_scroll(page)

    target = page.locator("#step-check_settings button[value=run]")
    for _ in range(300):  # Tab from the top of the page until the step's Run button has focus
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError("the Run button of step check_settings is not reachable by Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.locator("#step-check_settings .st-done").first.wait_for(timeout=STEP_DONE_TIMEOUT)
    assert _no_horizontal_scroll(page)  # with a run's log on the page too
    shot(page, "keyboard-run-done", full_page=False)


def test_incident_page_works_without_javascript(login, portal, worker, shot):
    incident = seed.whatsapp_incident(dedup_key="e2e-usability-nojs", detected_minutes_ago=20)
    page = login("sam-support", viewport=LAPTOP_SMALL, javascript=False)
    page.goto(portal(f"/admin/incidents/incident/{incident.pk}/work/"))
    page.fill("textarea[name=text]", "Checked without JavaScript.")
    page.click("button:has-text('Add note')")
    assert "Checked without JavaScript." in page.locator("#content-main").inner_text()
    page.locator("#step-check_settings button[value=run]").click()
    page.wait_for_load_state()
    assert "queued" in page.locator("ul.messagelist").inner_text()
    # No script, no self-reload: the "Refresh" link is how the page shows the run's end.
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    done = page.locator("#step-check_settings .st-done")
    for _ in range(STEP_DONE_TIMEOUT // 1000):
        if done.count():
            break
        page.wait_for_timeout(1000)
        page.click("#incident-summary a:has-text('Refresh')")
        page.wait_for_load_state()
    assert done.count(), "the step never showed done"
    assert _no_horizontal_scroll(page)
    shot(page, "no-js-step-done")
