"""Readable everywhere: the pills, badges and tiles keep their text readable in the light and
the dark theme (the admin's toggle, and the OS setting on "auto"); the front page and the
status page fit a 390 px phone without sideways scrolling; axe-core finds no serious or
critical problem (unlabelled inputs and buttons included) on the front page, the status
page, the campaign pages, the search results and the error and logout pages."""

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

READABLE = ".pill, .integration-tile h3, .integration-tile .meta, .degraded-banner, .fp-summary li"


@pytest.fixture(scope="module")
def world(portal, django_db_blocker):
    """A red tile, an open incident, a campaign: every kind of pill on the pages below."""
    from integrations.status import status_get

    portal.sim.set_fault("voucher_png", status=503)
    with django_db_blocker.unblock():
        status_get(force=True)
        incident = seed.whatsapp_incident(dedup_key="e2e-readable", detected_minutes_ago=30)
        campaign = seed.campaign_started(name="Readable promo", targets=50, throttle_per_minute=6)
    portal.sim.clear_faults()
    return {"incident": incident, "campaign": campaign}


PAGES = {
    "front": "/admin/",
    "status": "/admin/integrations/proberesult/",
    "campaigns": "/admin/campaigns/campaign/",
}


@pytest.mark.parametrize("theme", ["light", "dark", "os-dark"])
def test_pills_tiles_and_banners_are_readable_in_both_themes(login, portal, world, theme, shot):
    page = login("olga-ops")
    for name, path in {
        **PAGES,
        "campaign": f"/admin/campaigns/campaign/{world['campaign'].pk}/change/",
    }.items():
        page.goto(portal(path))
        set_theme(page, theme)
        assert page_is_dark(page) == (theme != "light"), (name, theme)
        checked = contrast(page, READABLE)
        assert checked, f"nothing to check on {name}"
        for item in checked:
            assert item["color"] != item["background"], (name, theme, item)
            assert item["ratio"] >= 4.5, (name, theme, item)
        if theme == "dark" and name in ("front", "campaign"):
            shot(page, f"{name}-dark", readme=f"{name}-dark")


def test_front_page_and_status_page_fit_a_phone(login, portal, world, shot):
    page = login("sam-support", viewport=PHONE)
    page.goto(portal("/admin/"))
    assert no_horizontal_scroll(page)
    shot(page, "front-phone", readme="front-page-phone")
    page.goto(portal("/admin/integrations/proberesult/"))
    assert no_horizontal_scroll(page)
    shot(page, "status-phone", readme="status-phone")
    page.goto(portal(f"/admin/campaigns/campaign/{world['campaign'].pk}/change/"))
    shot(page, "campaign-phone", readme="campaign-phone")


def test_axe_finds_no_serious_problem(login, portal, world):
    voucher_code = _a_voucher_code()
    page = login("olga-ops")
    pages = {
        **PAGES,
        "campaign": f"/admin/campaigns/campaign/{world['campaign'].pk}/change/",
        "upload": f"/admin/campaigns/campaign/{world['campaign'].pk}/upload/",
        "notifications": "/admin/campaigns/campaign/notifications/",
        "search": f"/admin/search/?q={voucher_code}",
        "404": "/admin/no/such/page/",
    }
    problems = {}
    for name, path in pages.items():
        page.goto(portal(path))
        problems[name] = serious_violations(page)
    support = login("sam-support")
    support.goto(portal("/admin/auth/user/"))
    problems["403"] = serious_violations(support)
    page.goto(portal("/admin/"))
    set_theme(page, "dark")
    problems["front-dark"] = serious_violations(page)
    support.click("#logout-form button")
    support.wait_for_load_state()
    problems["logged-out"] = serious_violations(support)
    found = {name: found for name, found in problems.items() if found}
    assert not found, "\n".join(f"{n}: {p}" for n, ps in found.items() for p in ps)


def _a_voucher_code() -> str:
    from vouchers.models import Voucher

    return Voucher.objects.order_by("id").values_list("code", flat=True).first()
