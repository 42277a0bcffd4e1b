"""Login throttling (django-axes): failures are audited, N failures lock that username from
that address, the lock holds even for the right password, and CSRF guards the form."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


def _try(client, username, password, ip="10.0.0.7"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def test_a_failed_login_is_audited_without_the_password(admin_user, client):
    response = _try(client, "ada-admin", "wrong-password-123")
    assert response.status_code == 200  # the form again, with its error
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.data["username"] == "ada-admin" and entry.data["ip"] == "10.0.0.7"
    assert "wrong-password-123" not in str(entry.data) + entry.target_repr


def test_the_limit_locks_that_username_from_that_address(admin_user, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try(client, "ada-admin", "wrong-password-123")
    locked = _try(client, "ada-admin", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.locked_out", data__username="ada-admin").exists()
    assert (
        AuditEntry.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT
    )
    # The same admin, from another address, still gets in: nobody locks admins out remotely.
    elsewhere = _try(Client(), "ada-admin", PASSWORD, ip="10.9.9.9")
    assert elsewhere.status_code == 302


def test_a_success_before_the_limit_resets_the_count(admin_user, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _try(client, "ada-admin", "wrong-password-123")
    assert _try(client, "ada-admin", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _try(client, "ada-admin", "wrong-password-123")
    assert _try(client, "ada-admin", PASSWORD).status_code == 302


def test_tests_and_scripts_can_still_log_in_without_a_request(admin_user, client):
    assert client.login(username="ada-admin", password=PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_login_form_needs_its_csrf_token(admin_user):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": "ada-admin", "password": PASSWORD})
    assert response.status_code == 403
