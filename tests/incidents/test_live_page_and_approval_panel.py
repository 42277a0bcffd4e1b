"""The incident page without reloads (its live fragment, with the page's rights), the approval
panel that says what approving will do, and the login page that says why you were signed out."""

import pytest
from django.test import Client
from django.urls import reverse

from incidents.models import Approval
from incidents.services import step_run_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(open_incident, step_of, ops_user):
    step = step_of(open_incident("credential_leak"), "invalidate_sessions")
    return step_run_request(step=step, actor=ops_user, params={"revoke_api_tokens": True})


def _page(client, incident_id, name="admin:incidents_incident_work"):
    return client.get(reverse(name, args=[incident_id]))


def test_the_page_refreshes_its_parts_from_a_fragment_not_by_reloading(
    client_for, pending, ops_user
):
    client = client_for(ops_user)
    html = _page(client, pending.incident_id).content.decode()
    live_url = reverse("admin:incidents_incident_live", args=[pending.incident_id])
    assert 'http-equiv="refresh"' not in html
    assert f'data-portal-refresh="{live_url}"' in html
    fragment = client.get(live_url)
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "no-store" in fragment["Cache-Control"]
    assert 'id="incident-live"' in body
    for part in ("incident-approvals", "step-invalidate_sessions", "incident-timeline"):
        assert f'id="{part}"' in body
    assert "<html" not in body  # a fragment, not a page
    assert "{#" not in html and "{%" not in body  # no template comment shown as text


def test_the_fragment_keeps_the_pages_rights(client, pending, make_staff):
    live_url = reverse("admin:incidents_incident_live", args=[pending.incident_id])
    anonymous = client.get(live_url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    nobody = make_staff("support", "no-incidents")
    nobody.groups.clear()  # staff without any role: may not view incidents
    client.force_login(nobody)
    assert client.get(live_url).status_code == 403


def test_the_approval_panel_says_what_approving_will_do(client_for, pending, admin_user):
    html = _page(client_for(admin_user), pending.incident_id).content.decode()
    panel = html[html.index('id="incident-approvals"') : html.index('id="incident-summary"')]
    assert "Approval needed: Invalidate all admin sessions" in panel
    assert "Signs everyone out" in panel and "including yours as the approver" in panel
    assert "Revokes every active staff API token" in panel
    assert "oscar-ops" in panel or pending.requested_by_name in panel
    assert "expires" in panel and 'class="when"' in panel
    assert 'name="op" value="approve"' in panel and 'name="op" value="deny"' in panel
    assert 'name="comment" required' in panel  # Deny needs its reason
    assert 'aria-label="Approve step' in panel
    assert "{'" not in html and "revoke_api_tokens" not in html  # no raw parameters anywhere


def test_the_requester_sees_the_panel_without_buttons_and_why(client_for, pending, ops_user):
    html = _page(client_for(ops_user), pending.incident_id).content.decode()
    panel = html[html.index('id="incident-approvals"') : html.index('id="incident-summary"')]
    assert "Signs everyone out" in panel
    assert 'value="approve"' not in panel
    assert "another admin must decide it" in panel


def test_deny_without_a_reason_is_refused(client_for, pending, admin_user):
    client = client_for(admin_user)
    url = reverse("admin:incidents_incident_act", args=[pending.incident_id])
    data = {"op": "deny", "approval": pending.pk, "params_hash": pending.params_hash}
    page = client.post(url, data, follow=True).content.decode()
    pending.refresh_from_db()
    assert pending.status == Approval.Status.PENDING
    assert "errornote" in page or "error" in page
    client.post(url, {**data, "comment": "Not during the match"})
    pending.refresh_from_db()
    assert pending.status == Approval.Status.DENIED


def test_after_a_sign_out_of_everyone_the_login_page_says_why(
    client_for, pending, admin_user, sync_tasks
):
    from incidents.services import approval_decide

    signed_in = client_for(admin_user)
    work = reverse("admin:incidents_incident_work", args=[pending.incident_id])
    assert signed_in.get(work).status_code == 200
    with sync_tasks():
        approval_decide(approval=pending, actor=admin_user, approve=True)

    page = signed_in.get(work, follow=True)
    html = page.content.decode()
    assert page.redirect_chain and "/login/" in page.redirect_chain[-1][0]
    assert (
        f"You were signed out because the sign-out step of incident #{pending.incident_id} "
        "invalidated all sessions at"
    ) in html
    assert 'class="when when-exact"' in html
    # Nobody else is told anything: a browser that carried no ended session sees no notice.
    assert "You were signed out" not in Client().get(reverse("admin:login")).content.decode()
    # A forged marker says nothing either (signed cookie).
    other = Client()
    other.cookies["opsportal_signed_out"] = "1"
    assert "You were signed out" not in other.get(reverse("admin:login")).content.decode()
