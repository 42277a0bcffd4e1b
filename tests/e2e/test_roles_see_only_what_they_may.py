"""Each role logs in through the form and sees only what it may: the admin index lists
only its apps and models, and URLs outside its role answer 403."""

import pytest

# app label → shown on the index for these roles (staff/roles.py)
APPS = {
    "vouchers": {"support", "ops", "admin", "auditor"},
    "campaigns": {"support", "ops", "admin", "auditor"},
    "incidents": {"support", "ops", "admin", "auditor"},
    "audit": {"ops", "admin", "auditor"},
    "auth": {"admin"},
}
FORBIDDEN = {
    "support": [
        "/admin/auth/user/",
        "/admin/audit/auditentry/",
        "/admin/vouchers/station/add/",
        "/admin/campaigns/campaign/add/",
    ],
    "ops": ["/admin/auth/user/", "/admin/vouchers/station/add/", "/admin/staff/apitoken/"],
    "admin": [],
    "auditor": [
        "/admin/auth/user/",
        "/admin/vouchers/station/add/",
        "/admin/campaigns/campaign/add/",
        "/admin/vouchers/voucher/add/",
    ],
}
ALLOWED = {
    "support": ["/admin/vouchers/voucher/", "/admin/campaigns/campaign/"],
    "ops": ["/admin/audit/auditentry/", "/admin/campaigns/campaign/"],
    "admin": ["/admin/auth/user/", "/admin/auth/user/add/", "/admin/staff/apitoken/"],
    "auditor": ["/admin/audit/auditentry/", "/admin/vouchers/voucher/"],
}
USERS = {
    "support": "sam-support",
    "ops": "olga-ops",
    "admin": "ada-admin",
    "auditor": "aud-auditor",
}


@pytest.mark.parametrize("role", ["support", "ops", "admin", "auditor"])
def test_role_sees_its_apps_and_is_refused_the_rest(role, login, portal, shot):
    page = login(USERS[role])
    shown = set(
        page.eval_on_selector_all(
            "#content-main .module[class*='app-']",
            "els => els.map(e => [...e.classList].find(c => c.startsWith('app-')).slice(4))",
        )
    )
    for app, roles in APPS.items():
        assert (app in shown) == (role in roles), (role, app, sorted(shown))
    shot(page, "index")

    for path in ALLOWED[role]:
        response = page.goto(portal(path))
        assert response.status == 200, (role, path, response.status)
    for path in FORBIDDEN[role]:
        response = page.goto(portal(path))
        assert response.status == 403, (role, path, response.status)
    if FORBIDDEN[role]:
        shot(page, "forbidden")


def test_anonymous_is_sent_to_the_login_form(browser, portal, shot):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(portal("/admin/incidents/incident/"))
        assert "/admin/login/" in page.url
        assert page.locator("#login-form").is_visible()
        shot(page, "login")
    finally:
        context.close()
