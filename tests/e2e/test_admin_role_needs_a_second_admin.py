"""In the browser: an admin picks the admin role for a colleague, which only files a
request; the requester's own request page has no Approve button; a second admin approves
it and the colleague is an admin."""

from staff.models import RoleRequest
from staff.services import staff_create
from tests.e2e.conftest import PASSWORD


def test_the_admin_role_needs_a_second_admin(login, portal, shot):
    newcomer = staff_create(username="nina-newlead", role="ops", password=PASSWORD)
    change = portal(f"/admin/auth/user/{newcomer.pk}/change/")

    requester = login("ada-admin")
    requester.goto(change)
    assert requester.locator("[name=is_superuser]").count() == 0
    assert requester.locator("[name=user_permissions], [name=groups]").count() == 0
    requester.select_option("select[name=role]", "admin")
    requester.click("input[name=_save]")
    requester.wait_for_load_state()
    assert "waits for another admin" in requester.locator(".messagelist").inner_text()
    request = RoleRequest.objects.get(user=newcomer)
    assert list(newcomer.groups.values_list("name", flat=True)) == ["ops"]

    requester.goto(portal(f"/admin/staff/rolerequest/{request.pk}/decide/"))
    assert requester.locator("#role-request-decide").count() == 0
    assert "nobody approves their own" in requester.locator("#role-request-why").inner_text()
    shot(requester, "requester-cannot-approve")

    approver = login("ben-admin")
    approver.goto(portal(f"/admin/staff/rolerequest/{request.pk}/decide/"))
    approver.fill("#id_comment", "new on-call lead")
    approver.click("#role-request-decide button[value=approve]")
    approver.wait_for_load_state()
    assert approver.locator("#role-request-status").inner_text() == "granted"
    assert list(newcomer.groups.values_list("name", flat=True)) == ["admin"]
    shot(approver, "granted")
