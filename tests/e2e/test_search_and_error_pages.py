"""The header's search box, from the keyboard: "/" focuses it on any page, a voucher code
finds the voucher; support sees no audit entries, ops sees the voucher's. The error pages
lead somewhere: 403 names the role that would be needed and leads back; logging out leads to
the login form."""

from tests.e2e import seed
from tests.e2e.readable import PHONE, no_horizontal_scroll, serious_violations


def _voided_voucher():
    from vouchers.models import Voucher
    from vouchers.services import voucher_void

    voucher = Voucher.objects.filter(status="issued").order_by("id").first()
    voucher_void(voucher=voucher, reason="E2E search", actor=seed.person("olga-ops"))
    return voucher


def _search_from_the_keyboard(page, text: str) -> None:
    page.locator("body").click(position={"x": 5, "y": 300})  # nothing focused
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "portal-search-q"
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/search/?q=*")


def test_the_search_box_finds_a_voucher_and_hides_what_a_role_may_not_see(login, portal, shot):
    voucher = _voided_voucher()

    support = login("sam-support")
    _search_from_the_keyboard(support, voucher.code.lower())
    hit = support.locator("#search-vouchers li[data-kind=vouchers] a")
    assert hit.inner_text() == voucher.code
    assert support.locator("#search-audit").count() == 0  # support may not read the audit log

    ops = login("olga-ops")
    _search_from_the_keyboard(ops, voucher.code)
    assert ops.locator("#search-vouchers a", has_text=voucher.code).count() == 1
    audit = ops.locator("#search-audit")
    assert "voucher.void" in audit.inner_text()
    assert serious_violations(ops) == []
    shot(ops, "results", readme="search")

    hit = ops.locator("#search-vouchers a", has_text=voucher.code)
    hit.click()
    ops.wait_for_url(f"**/admin/vouchers/voucher/{voucher.pk}/change/")


def test_403_says_which_role_and_leads_back(login, portal, shot):
    page = login("sam-support")
    # As if they had followed a link from the front page (a bookmark sends no Referer).
    response = page.goto(portal("/admin/auth/user/"), referer=portal("/admin/"))
    assert response.status == 403
    why = page.locator("#forbidden-why").inner_text()
    assert "auth.view_user" in why and "admin" in why
    assert "#ops" in page.locator("#content-main").inner_text()
    shot(page, "forbidden", readme="forbidden")
    page.locator("#forbidden-back").click()
    page.wait_for_url(portal("/admin/"))


def test_error_pages_fit_a_phone_and_logout_leads_to_login(login, portal, shot):
    page = login("sam-support", viewport=PHONE)
    for path, status in (("/admin/auth/user/", 403), ("/admin/nowhere/", 404)):
        assert page.goto(portal(path)).status == status
        assert no_horizontal_scroll(page)
    page.click("#logout-form button")
    page.wait_for_load_state()
    assert "You are signed out" in page.locator("#content-main").inner_text()
    page.click("#sign-in-again")
    page.wait_for_url("**/admin/login/**")
    assert page.locator("#login-form").is_visible()
