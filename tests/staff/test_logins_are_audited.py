"""Logins are audited: each success, each failure for an account that exists, and failures
for unknown usernames COUNTED per window — one entry per window with the count, so an
anonymous client cannot grow the audit log without bound."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from staff.models import FailedLoginWindow
from staff.tasks import staff_tick
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


def _try(username, password, ip="10.0.0.7"):
    return Client().post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def test_a_successful_login_is_audited(admin_user):
    assert _try("ada-admin", PASSWORD).status_code == 302
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor == admin_user and entry.data == {"ip": "10.0.0.7"}


def test_changing_ones_own_password_is_audited(admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-pw-456",
            "new_password2": "another-long-pw-456",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="auth.password_changed")
    assert entry.actor == admin_user and "another-long-pw-456" not in str(entry.data)


def test_unknown_usernames_are_counted_not_logged_one_by_one(db, settings):
    settings.AXES_FAILURE_LIMIT = 1000  # the point here is the audit log, not the lockout
    for i in range(40):
        _try(f"nobody-{i % 15}", "guess-123456", ip=f"10.0.0.{i % 12}")
    assert not AuditEntry.objects.filter(action__startswith="auth.login").exists()
    window = FailedLoginWindow.objects.get()
    assert window.failures == 40
    assert len(window.usernames) == 10 and len(window.ips) == 10  # bounded samples
    assert staff_tick()["login_windows"] == 0  # the window is still open

    FailedLoginWindow.objects.update(window_start=window.window_start - timedelta(hours=1))
    assert staff_tick()["login_windows"] == 1
    entry = AuditEntry.objects.get(action="auth.login_failed_unknown")
    assert entry.data["failures"] == 40 and entry.actor_name == "system"
    assert not FailedLoginWindow.objects.exists()
    assert staff_tick()["login_windows"] == 0  # written once


def test_unknown_usernames_past_the_lockout_are_counted_too(db, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(6):
        _try("ghost", "guess-123456")
    assert not AuditEntry.objects.filter(action__startswith="auth.").exists()
    window = FailedLoginWindow.objects.get()
    assert window.failures + window.lockouts >= 6 and window.lockouts >= 1


def test_a_password_typed_as_the_username_is_masked(db):
    _try("sb_secret_abcdefghijklmnop123456", "x")
    [name] = FailedLoginWindow.objects.get().usernames
    assert "abcdefghijklmnop" not in name and name.startswith("[redacted")


def test_failures_for_a_real_account_are_still_one_entry_each(admin_user):
    for _ in range(3):
        _try("ada-admin", "wrong-password-123")
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 3
    assert not FailedLoginWindow.objects.exists()
