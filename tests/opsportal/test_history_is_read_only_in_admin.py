"""Audit entries and voucher events cannot be added, changed or deleted through the admin."""

import pytest
from django.urls import reverse

import audit
from audit.models import AuditEntry
from vouchers.models import VoucherEvent


@pytest.fixture
def superuser(django_user_model, db):
    return django_user_model.objects.create_superuser(
        "root", "root@example.com", "a-long-password-123"
    )


@pytest.fixture
def entry(db):
    return audit.record(action="test.something", target_type="x", target_id="1", data={"a": 1})


@pytest.mark.parametrize("who", ["superuser", "admin_user", "auditor_user"])
def test_audit_entries_cannot_be_changed_or_deleted_through_the_admin(request, client, entry, who):
    client.force_login(request.getfixturevalue(who))
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert client.post(change, {"action": "rewritten"}).status_code == 403
    assert (
        client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("admin:audit_auditentry_add"), {"action": "forged"}).status_code == 403
    )
    entry.refresh_from_db()
    assert entry.action == "test.something"
    assert (
        AuditEntry.objects.count() >= 1 and not AuditEntry.objects.filter(action="forged").exists()
    )


def test_the_audit_detail_page_is_readable_but_has_no_save_button(client, superuser, entry):
    client.force_login(superuser)
    page = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).content.decode()
    assert "test.something" in page
    assert 'name="_save"' not in page


def test_voucher_events_cannot_be_changed_or_deleted_through_the_admin(
    client, superuser, voucher_factory
):
    voucher = voucher_factory()
    event = VoucherEvent.objects.get(voucher=voucher)
    client.force_login(superuser)
    assert (
        client.post(
            reverse("admin:vouchers_voucherevent_change", args=[event.pk]), {"kind": "redeemed"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:vouchers_voucherevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.kind == "issued"
