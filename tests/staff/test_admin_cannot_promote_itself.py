"""An insider with an `admin` account tries to give itself (or a second account) more
power through the web: superuser, staff flags, per-user permissions, raw groups, another
person's password, the roles' permissions. Every attempt is refused or has no effect."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from audit.models import AuditEntry
from staff.models import RoleRequest

pytestmark = pytest.mark.django_db


def _change(user):
    return reverse("admin:auth_user_change", args=[user.pk])


def _everything():
    return [str(p.pk) for p in Permission.objects.all()]


@pytest.mark.parametrize("target", ["self", "other"])
def test_superuser_flags_permissions_and_groups_in_the_form_are_ignored(
    target, admin_user, ops_user, client, account_form
):
    victim = admin_user if target == "self" else ops_user
    client.force_login(admin_user)
    page = client.get(_change(victim)).content.decode()
    for name in ("is_superuser", "is_staff", "user_permissions", "groups"):
        assert f'name="{name}"' not in page, f"{name} is on the form"
    response = client.post(
        _change(victim),
        account_form(
            victim,
            is_superuser="on",
            is_staff="on",
            user_permissions=_everything(),
            groups=[str(g.pk) for g in Group.objects.all()],
        ),
    )
    assert response.status_code == 302, response.content[:2000]
    victim.refresh_from_db()
    assert not victim.is_superuser
    assert not victim.user_permissions.exists()
    assert list(victim.groups.values_list("name", flat=True)) == [
        "admin" if target == "self" else "ops"
    ]


def test_the_add_form_makes_no_superuser_and_no_permissions(admin_user, client):
    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_add")).content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "sidekick",
            "usable_password": "true",
            "password1": "a-long-password-123",
            "password2": "a-long-password-123",
            "role": "support",
            "is_superuser": "on",
            "is_staff": "on",
            "user_permissions": _everything(),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    from django.contrib.auth import get_user_model

    sidekick = get_user_model().objects.get(username="sidekick")
    assert sidekick.is_staff and not sidekick.is_superuser
    assert not sidekick.user_permissions.exists()
    assert list(sidekick.groups.values_list("name", flat=True)) == ["support"]
    added = AuditEntry.objects.get(action="admin.added", target_id=str(sidekick.pk))
    assert added.actor == admin_user
    assert added.data["changes"]["password1"] == "[redacted]"
    assert "a-long-password-123" not in str(added.data)


def test_choosing_the_admin_role_for_a_second_account_only_files_a_request(
    admin_user, ops_user, client, account_form
):
    client.force_login(admin_user)
    response = client.post(_change(ops_user), account_form(ops_user, role="admin"))
    assert response.status_code == 302
    assert list(ops_user.groups.values_list("name", flat=True)) == ["ops"]
    assert not ops_user.has_perm("incidents.approve_risky_step")
    request = RoleRequest.objects.get()
    assert (request.user, request.role, request.status) == (ops_user, "admin", "pending")
    assert request.requested_by == admin_user
    assert AuditEntry.objects.filter(action="staff.admin_role_requested").count() == 1


def test_the_roles_permissions_cannot_be_edited_through_the_web(superuser, admin_user, client):
    support = Group.objects.get(name="support")
    before = set(support.permissions.values_list("pk", flat=True))
    for who in (admin_user, superuser):
        client.force_login(who)
        url = reverse("admin:auth_group_change", args=[support.pk])
        assert (
            client.post(url, {"name": "support", "permissions": _everything()}).status_code == 403
        )
        assert client.post(reverse("admin:auth_group_add"), {"name": "gods"}).status_code == 403
    assert set(support.permissions.values_list("pk", flat=True)) == before
    assert not Group.objects.filter(name="gods").exists()


def test_nobody_sets_another_persons_password_through_the_web(admin_user, second_admin, client):
    client.force_login(admin_user)
    url = reverse("admin:auth_user_password_change", args=[second_admin.pk])
    data = {"password1": "taken-over-123456", "password2": "taken-over-123456"}
    assert client.post(url, {**data, "usable_password": "true"}).status_code == 403
    second_admin.refresh_from_db()
    assert not second_admin.check_password("taken-over-123456")


def test_an_admin_cannot_change_a_superusers_account(superuser, admin_user, client, account_form):
    client.force_login(admin_user)
    response = client.post(_change(superuser), account_form(superuser, is_active=""))
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active


def test_a_superuser_is_listed_with_everyone(superuser, admin_user, client):
    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "root" in page and "ada-admin" in page


def test_createsuperuser_is_the_way_and_it_is_audited(db, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-123")
    call_command("createsuperuser", "--no-input", "--username", "root2", "--email", "r@x.io")
    entry = AuditEntry.objects.get(action="staff.superuser_granted")
    assert entry.target_repr == "root2" and entry.actor_name == "system"
    assert entry.data["created"] is True
