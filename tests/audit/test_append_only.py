"""The database itself refuses to rewrite the audit log (PostgreSQL trigger)."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

import audit
from audit.maintenance import audit_maintenance
from audit.models import AuditEntry


def _entry():
    return audit.record(action="test.thing", target_type="t.x", target_id="1", target_repr="x")


@pytest.mark.django_db
def test_update_is_refused_by_the_database():
    entry = _entry()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.rewritten")
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing"


@pytest.mark.django_db
def test_delete_is_refused_by_the_database():
    entry = _entry()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_truncate_is_refused_by_the_database():
    _entry()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.exists()


@pytest.mark.django_db
def test_maintenance_hatch_never_allows_update():
    entry = _entry()
    with pytest.raises(DatabaseError, match="append-only"), audit_maintenance():
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.rewritten")


@pytest.mark.django_db(transaction=True)
def test_maintenance_hatch_closes_with_its_transaction():
    entry = _entry()
    with audit_maintenance():
        pass
    with pytest.raises(DatabaseError, match="append-only"):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with audit_maintenance():
        AuditEntry.objects.filter(pk=entry.pk).delete()  # what the archival command does
    assert not AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_can_still_flush_the_database():
    """Other apps' `transaction=True` tests write audit entries; the flush after them must work."""
    _entry()
    assert AuditEntry.objects.exists()
    with pytest.raises(DatabaseError, match="append-only"):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry")
    call_command("flush", interactive=False, verbosity=0)  # what pytest-django runs at teardown
    assert not AuditEntry.objects.exists()
    _entry()  # and teardown flushes again, with an entry present
