"""Removing a role, deactivating an account and revoking a token take effect at once: the
person's sessions end (only theirs), their next request is refused, and it is audited."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from staff.services import api_token_create

pytestmark = pytest.mark.django_db

APPROVALS = reverse("admin:incidents_approval_changelist")


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 200
    return client


def _change(client, user, form):
    url = reverse("admin:auth_user_change", args=[user.pk])
    response = client.post(url, form)
    assert response.status_code == 302, response.content[:2000]


def test_a_demoted_admin_is_signed_out_at_once(
    admin_user, second_admin, ops_user, client, account_form
):
    demoted, bystander = _signed_in(second_admin), _signed_in(ops_user)
    client.force_login(admin_user)
    _change(client, second_admin, account_form(second_admin, role="ops"))
    assert list(second_admin.groups.values_list("name", flat=True)) == ["ops"]
    assert demoted.get(APPROVALS).status_code == 302  # to the login page
    assert bystander.get(reverse("admin:index")).status_code == 200
    entry = AuditEntry.objects.get(action="staff.role_changed")
    assert entry.actor == admin_user and entry.data == {
        "before": "admin",
        "after": "ops",
        "sessions_ended": 1,
    }


def test_removing_every_role_takes_the_portal_away(admin_user, ops_user, client, account_form):
    signed_in = _signed_in(ops_user)
    client.force_login(admin_user)
    _change(client, ops_user, account_form(ops_user, role=""))
    ops_user.refresh_from_db()
    assert not ops_user.is_staff and not ops_user.groups.exists()
    assert signed_in.get(reverse("admin:index")).status_code == 302


def test_a_promotion_keeps_the_session(admin_user, support_user, client, account_form):
    signed_in = _signed_in(support_user)
    client.force_login(admin_user)
    _change(client, support_user, account_form(support_user, role="ops"))
    assert signed_in.get(reverse("admin:index")).status_code == 200
    assert AuditEntry.objects.get(action="staff.role_changed").data["sessions_ended"] == 0


def test_a_deactivated_account_is_signed_out_and_its_tokens_refused(
    admin_user, ops_user, client, account_form
):
    signed_in = _signed_in(ops_user)
    issued = api_token_create(user=ops_user, name="script")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued.plaintext}"}
    assert Client().get("/api/me", **bearer).status_code == 200
    client.force_login(admin_user)
    form = account_form(ops_user)
    del form["is_active"]
    _change(client, ops_user, form)
    assert signed_in.get(reverse("admin:index")).status_code == 302
    assert not Session.objects.filter(session_key=signed_in.session.session_key).exists()
    assert Client().get("/api/me", **bearer).status_code == 401
    assert AuditEntry.objects.get(action="staff.deactivated").data["sessions_ended"] == 1
    changed = AuditEntry.objects.get(action="admin.changed", target_id=str(ops_user.pk))
    assert changed.data["changes"] == {"is_active": {"before": True, "after": False}}


def test_a_revoked_token_is_refused_on_its_next_call(admin_user, ops_user, client):
    issued = api_token_create(user=ops_user, name="script")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued.plaintext}"}
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:staff_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [issued.token.pk], "index": 0},
    )
    assert response.status_code == 302
    assert Client().get("/api/me", **bearer).status_code == 401
    assert AuditEntry.objects.get(action="api_token.revoked").actor == admin_user
