"""staff_sessions_invalidate: everyone signs in again; revoked tokens each get their audit entry."""

import threading

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from audit.models import AuditEntry
from staff.models import ApiToken
from staff.selectors import staff_access_counts
from staff.services import (
    SessionsNotInDatabase,
    api_token_create,
    api_token_revoke,
    staff_sessions_invalidate,
)

pytestmark = pytest.mark.django_db


def _signed_in(*users) -> list[Client]:
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        assert client.get("/api/me").status_code == 200
        clients.append(client)
    return clients


def _bearer(plaintext: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def test_every_session_ends_and_each_revoked_token_has_its_own_audit_entry(
    admin_user, ops_user, support_user
):
    clients = _signed_in(admin_user, ops_user, support_user)
    tokens = [api_token_create(user=u, name="script") for u in (ops_user, support_user)]
    already = api_token_create(user=ops_user, name="old")
    api_token_revoke(token=already.token, actor=admin_user)
    assert staff_access_counts() == {"sessions": 3, "api_tokens": 2}

    counts = staff_sessions_invalidate(
        actor=admin_user, revoke_api_tokens=True, reason="credential leak", incident_id=None
    )

    assert counts == {"sessions_deleted": 3, "api_tokens_revoked": 2}
    assert not Session.objects.exists()
    for client in clients:
        assert client.get("/api/me").status_code == 401
    for issued in tokens:
        assert Client().get("/api/me", **_bearer(issued.plaintext)).status_code == 401
        entry = AuditEntry.objects.get(action="api_token.revoked", target_id=str(issued.token.pk))
        assert entry.actor == admin_user
        assert entry.data == {"reason": "credential leak"}
    # The token revoked before is not revoked (or audited) a second time.
    assert (
        AuditEntry.objects.filter(
            action="api_token.revoked", target_id=str(already.token.pk)
        ).count()
        == 1
    )
    summary = AuditEntry.objects.get(action="staff.sessions_invalidated")
    assert summary.actor == admin_user
    assert summary.data == {
        "sessions_deleted": 3,
        "revocations": 2,
        "reason": "credential leak",
    }
    assert staff_access_counts() == {"sessions": 0, "api_tokens": 0}


def test_tokens_keep_working_unless_revocation_is_asked_for(admin_user, ops_user):
    _signed_in(ops_user)
    issued = api_token_create(user=ops_user, name="monitor")

    counts = staff_sessions_invalidate(
        actor=admin_user, revoke_api_tokens=False, reason="rotation #4"
    )

    assert counts == {"sessions_deleted": 1, "api_tokens_revoked": 0}
    assert Client().get("/api/me", **_bearer(issued.plaintext)).status_code == 200
    assert not AuditEntry.objects.filter(action="api_token.revoked").exists()


def test_entries_carry_the_incident_and_the_name_the_caller_acts_under(admin_user, ops_user):
    incident_id = 4242  # the audit log keeps an incident's id, not a reference to the row
    issued = api_token_create(user=ops_user)

    staff_sessions_invalidate(
        actor=admin_user,
        actor_name="ada-admin (approved by ben-admin)",
        revoke_api_tokens=True,
        reason="runbook step 2.3",
        incident_id=incident_id,
    )

    revoked = AuditEntry.objects.get(action="api_token.revoked", target_id=str(issued.token.pk))
    summary = AuditEntry.objects.get(action="staff.sessions_invalidated")
    for entry in (revoked, summary):
        assert entry.incident_id == incident_id
        assert entry.actor_name == "ada-admin (approved by ben-admin)"


def test_a_session_engine_outside_the_database_is_refused_and_nothing_changes(
    settings, admin_user, ops_user
):
    _signed_in(ops_user)
    issued = api_token_create(user=ops_user)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

    with pytest.raises(SessionsNotInDatabase, match="cached_db"):
        staff_sessions_invalidate(actor=admin_user, revoke_api_tokens=True, reason="leak")

    assert Session.objects.count() == 1
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is None
    assert not AuditEntry.objects.filter(
        action__in=["staff.sessions_invalidated", "api_token.revoked"]
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_revocations_of_one_token_write_one_entry(make_staff):
    admin = make_staff("admin", "ada-admin")
    issued = api_token_create(user=make_staff("ops", "olga-ops"))
    start = threading.Barrier(2)
    results, errors = [], []

    def revoke():
        try:
            start.wait(timeout=10)
            results.append(api_token_revoke(token=issued.token, actor=admin, reason="race"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=revoke) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not errors
    assert sorted(results) == [False, True]
    assert AuditEntry.objects.filter(action="api_token.revoked").count() == 1
