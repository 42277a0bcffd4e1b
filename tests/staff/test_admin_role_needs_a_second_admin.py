"""The admin role is a risky change: one admin asks, ANOTHER admin approves (the same
two-person rule as the runbooks' risky steps: never the requester, bound to the exact
change, expiring), announced in Slack #ops. Through the admin pages, as people would."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from staff.grants import role_request_create, role_requests_expire
from staff.models import RoleRequest

pytestmark = pytest.mark.django_db


def _roles(user):
    return list(user.groups.values_list("name", flat=True))


def _decide(client, request, decision, comment="", change_hash=None):
    return client.post(
        reverse("admin:staff_rolerequest_decide", args=[request.pk]),
        {
            "decision": decision,
            "comment": comment,
            "change_hash": request.change_hash if change_hash is None else change_hash,
        },
        follow=True,
    )


@pytest.fixture
def request_for_ops(admin_user, ops_user, client, account_form):
    client.force_login(admin_user)
    change = reverse("admin:auth_user_change", args=[ops_user.pk])
    assert client.post(change, account_form(ops_user, role="admin")).status_code == 302
    return RoleRequest.objects.get(user=ops_user)


def test_the_requester_cannot_approve_and_the_grant_stays_pending(
    request_for_ops, admin_user, ops_user, client
):
    client.force_login(admin_user)
    page = client.get(reverse("admin:staff_rolerequest_decide", args=[request_for_ops.pk]))
    assert b'id="role-request-decide"' not in page.content
    assert b"nobody approves their own" in page.content
    response = _decide(client, request_for_ops, "approve")
    assert "You cannot approve your own request." in response.content.decode()
    request_for_ops.refresh_from_db()
    assert request_for_ops.status == "pending" and _roles(ops_user) == ["ops"]
    assert not AuditEntry.objects.filter(action="staff.admin_role_granted").exists()


def test_a_second_admin_approves_and_the_role_is_granted_and_announced(
    request_for_ops, second_admin, ops_user, client, simulator, sync_tasks
):
    client.force_login(second_admin)
    with sync_tasks():
        response = _decide(client, request_for_ops, "approve", comment="new on-call lead")
    assert response.status_code == 200
    request_for_ops.refresh_from_db()
    assert request_for_ops.status == "used" and request_for_ops.decided_by == second_admin
    assert _roles(ops_user) == ["admin"] and ops_user.is_staff
    granted = AuditEntry.objects.get(action="staff.admin_role_granted")
    assert granted.actor == second_admin and granted.target_id == str(ops_user.pk)
    assert granted.data["requested_by"] == "ada-admin"
    posts = [c["body"]["text"] for c in simulator.calls("slack") if "postMessage" in c["path"]]
    assert any("is now admin" in text and "ben-admin" in text for text in posts), posts


def test_the_request_is_announced_in_ops(admin_user, ops_user, simulator, sync_tasks, settings):
    with sync_tasks():
        request = role_request_create(user=ops_user, role="admin", actor=admin_user)
    [post] = [c["body"] for c in simulator.calls("slack") if "postMessage" in c["path"]]
    assert post["channel"] == settings.SLACK_OPS_CHANNEL
    assert f"request #{request.pk}" in post["text"] and "olga-ops" in post["text"]


def test_ops_cannot_approve(request_for_ops, make_staff, ops_user, client):
    client.force_login(make_staff("ops", "other-ops"))
    response = client.post(
        reverse("admin:staff_rolerequest_decide", args=[request_for_ops.pk]),
        {"decision": "approve", "change_hash": request_for_ops.change_hash},
    )
    assert response.status_code == 403
    assert _roles(ops_user) == ["ops"]


def test_an_approval_is_bound_to_the_account_as_it_was(
    request_for_ops, second_admin, ops_user, client
):
    ops_user.username = "renamed-ops"
    ops_user.save()
    client.force_login(second_admin)
    response = _decide(client, request_for_ops, "approve")
    assert "The account changed since the request (username" in response.content.decode()
    request_for_ops.refresh_from_db()
    assert request_for_ops.status == "pending" and _roles(ops_user) == ["ops"]


def test_an_expired_request_cannot_be_approved(request_for_ops, second_admin, ops_user, client):
    RoleRequest.objects.filter(pk=request_for_ops.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client.force_login(second_admin)
    response = _decide(client, request_for_ops, "approve")
    assert "This request has expired" in response.content.decode()
    assert _roles(ops_user) == ["ops"]
    assert role_requests_expire() == 1
    request_for_ops.refresh_from_db()
    assert request_for_ops.status == "expired"
    assert AuditEntry.objects.filter(action="staff.admin_role_request_expired").exists()


def test_a_denial_needs_a_reason_and_is_audited(request_for_ops, second_admin, ops_user, client):
    client.force_login(second_admin)
    assert "Say why you deny" in _decide(client, request_for_ops, "deny").content.decode()
    _decide(client, request_for_ops, "deny", comment="not on the team")
    request_for_ops.refresh_from_db()
    assert request_for_ops.status == "denied" and _roles(ops_user) == ["ops"]
    assert AuditEntry.objects.get(action="staff.admin_role_denied").data["comment"] == (
        "not on the team"
    )


def test_a_stale_review_page_cannot_approve(request_for_ops, second_admin, ops_user, client):
    client.force_login(second_admin)
    response = _decide(client, request_for_ops, "approve", change_hash="0" * 64)
    assert "changed since you reviewed" in response.content.decode()
    assert _roles(ops_user) == ["ops"]


def test_a_superuser_asking_still_needs_another_admin(superuser, ops_user, client, account_form):
    client.force_login(superuser)
    change = reverse("admin:auth_user_change", args=[ops_user.pk])
    client.post(change, account_form(ops_user, role="admin"))
    request = RoleRequest.objects.get(user=ops_user)
    assert (
        "You cannot approve your own request."
        in _decide(client, request, "approve").content.decode()
    )
    assert _roles(ops_user) == ["ops"]


def test_the_command_line_stays_the_bootstrap_path_and_is_audited(db):
    from django.core.management import call_command

    call_command("create_staff", "first-admin", "--role", "admin", "--password", "x-long-pw-123")
    entry = AuditEntry.objects.get(action="staff.created", target_repr="first-admin")
    assert entry.actor_name == "system" and entry.data["role"] == "admin"
    assert entry.data["via"] == "command line"
