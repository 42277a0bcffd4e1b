"""The incident page as each role that works it reads it on a phone in the dark theme: it fits
390 px, its pills stay readable, axe finds nothing serious, and where a person may not act the
page says why instead of showing a button that would fail."""

import pytest

from tests.e2e import seed
from tests.e2e.readable import (
    PHONE,
    contrast,
    no_horizontal_scroll,
    page_is_dark,
    serious_violations,
    set_theme,
)


@pytest.fixture(scope="module")
def incident(portal, django_db_blocker):
    with django_db_blocker.unblock():
        return seed.whatsapp_incident(dedup_key="e2e-per-role", detected_minutes_ago=10)


@pytest.mark.parametrize(
    "username, may_pause",
    [("sam-support", False), ("olga-ops", True), ("ada-admin", True), ("aud-auditor", False)],
)
def test_each_role_reads_the_incident_on_a_dark_phone(
    login, portal, incident, shot, username, may_pause
):
    page = login(username, viewport=PHONE)
    page.goto(portal(f"/admin/incidents/incident/{incident.pk}/work/"))
    set_theme(page, "dark")
    assert page_is_dark(page)
    assert no_horizontal_scroll(page), username
    for item in contrast(page, ".pill, .st, .step-why small"):
        assert item["ratio"] >= 4.5, (username, item)
    assert serious_violations(page) == [], username

    pause = page.locator("#step-pause_all")  # 2.1 Pause campaigns: an operational step
    run_buttons = pause.locator("button[value='run']")
    if may_pause:
        assert run_buttons.count() == 1
    else:
        assert run_buttons.count() == 0
        assert pause.locator(".step-why").count() >= 1, username  # … and why not
    shot(page, f"{username}-dark-phone")
