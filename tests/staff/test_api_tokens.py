"""Staff API tokens: Bearer auth with the user's permissions, revocable, last use recorded."""

import pytest

from audit.models import AuditEntry
from staff.models import ApiToken
from staff.services import api_token_create, api_token_revoke


@pytest.fixture
def ops_token(ops_user):
    return api_token_create(user=ops_user, name="script")


def test_a_token_acts_as_its_user_with_that_users_permissions(client, ops_token):
    response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {ops_token.plaintext}")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "olga-ops" and body["roles"] == ["ops"]
    assert "vouchers.operate_voucher" in body["permissions"]
    assert "incidents.approve_risky_step" not in body["permissions"]


def test_last_use_time_and_address_are_recorded(client, ops_token):
    client.get(
        "/api/me", HTTP_AUTHORIZATION=f"Bearer {ops_token.plaintext}", REMOTE_ADDR="10.1.2.3"
    )
    token = ApiToken.objects.get(pk=ops_token.token.pk)
    assert token.last_used_at is not None and token.last_used_ip == "10.1.2.3"


def test_anonymous_api_calls_get_401_json(client, db):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}


def test_an_unknown_token_gets_401(client, db):
    response = client.get(
        "/api/me", HTTP_AUTHORIZATION="Bearer opsp_not-a-real-token-at-all-xxxxxxxx"
    )
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_a_revoked_token_gets_401_and_its_use_is_audited(client, ops_token):
    api_token_revoke(token=ops_token.token)
    response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {ops_token.plaintext}")
    assert response.status_code == 401
    entry = AuditEntry.objects.filter(action="api_token.rejected").get()
    assert entry.data["reason"] == "revoked"
    assert ops_token.plaintext not in str(entry.data) + entry.target_repr


def test_a_session_user_can_call_the_api_too(client, support_user):
    client.force_login(support_user)
    assert client.get("/api/me").json()["roles"] == ["support"]


def test_the_token_is_never_echoed_or_logged(client, ops_token, caplog):
    with caplog.at_level("DEBUG"):
        response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {ops_token.plaintext}")
    assert ops_token.plaintext not in response.content.decode()
    assert ops_token.plaintext not in caplog.text
    assert not any(ops_token.plaintext in str(e.data) for e in AuditEntry.objects.all())


def test_admin_can_revoke_tokens_from_the_admin(client, admin_user, ops_token):
    client.force_login(admin_user)
    response = client.post(
        "/admin/staff/apitoken/",
        {"action": "revoke", "_selected_action": [ops_token.token.pk]},
    )
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=ops_token.token.pk).revoked_at is not None
