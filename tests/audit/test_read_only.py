"""Nobody changes the audit log through the portal: not auditors, not superusers."""

import pytest
from django.contrib.auth import get_user_model

import audit
from audit.models import AuditEntry

BROWSE = "/admin/audit/auditentry/browse/"


@pytest.fixture
def entry(db):
    return audit.record(action="test.readonly", target_type="t.x", target_id="1")


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "x-long-pass-1")


def test_auditor_can_look_and_export(client_for, auditor_user, entry):
    client = client_for(auditor_user)
    assert client.get(BROWSE).status_code == 200
    assert client.get(f"{BROWSE}{entry.id}/").status_code == 200
    assert client.get(f"{BROWSE}export.csv").status_code == 200


def test_without_view_permission_nothing_is_shown(client_for, support_user, entry):
    client = client_for(support_user)
    assert not support_user.has_perm("audit.view_auditentry")
    for url in (BROWSE, f"{BROWSE}{entry.id}/", f"{BROWSE}export.csv"):
        assert client.get(url).status_code == 403


def test_view_permission_alone_cannot_export(client_for, ops_user, entry):
    client = client_for(ops_user)
    assert client.get(BROWSE).status_code == 200
    assert client.get(f"{BROWSE}export.jsonl").status_code == 403


def test_anonymous_is_sent_to_login(client, entry):
    response = client.get(BROWSE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_browser_pages_accept_only_get(client_for, auditor_user, entry, method):
    client = client_for(auditor_user)
    for url in (BROWSE, f"{BROWSE}{entry.id}/", f"{BROWSE}export.csv"):
        assert getattr(client, method)(url).status_code == 405
    assert AuditEntry.objects.filter(pk=entry.pk, action="test.readonly").exists()


@pytest.mark.parametrize("persona", ["auditor_user", "superuser"])
def test_admin_cannot_add_change_or_delete(request, client_for, entry, persona):
    client = client_for(request.getfixturevalue(persona))
    base = "/admin/audit/auditentry/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}add/", {"action": "forged"}).status_code == 403
    assert client.post(f"{base}{entry.id}/change/", {"action": "forged"}).status_code == 403
    assert client.post(f"{base}{entry.id}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(
        base, {"action": "delete_selected", "_selected_action": [entry.id], "post": "yes"}
    ).status_code in (200, 302, 403)
    entry.refresh_from_db()
    assert entry.action == "test.readonly"
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_stock_changelist_links_to_the_browser(client_for, auditor_user, entry):
    content = client_for(auditor_user).get("/admin/audit/auditentry/").content.decode()
    assert f'href="{BROWSE}"' in content
