"""The database itself refuses to rewrite the audit log (PostgreSQL triggers).

Here as the test suite's own connection, a superuser: the triggers hold even for it
(until it switches them off, which tests/audit/test_tampering_detected.py covers). The
roles a production installation uses: tests/audit/test_db_roles.py."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

import audit
from audit.models import AuditCheckpoint, AuditEntry, AuditSeal
from audit.sealing import audit_seal


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
def test_seals_and_checkpoints_are_append_only_too():
    from audit.checkpoints import audit_checkpoint_create

    _entry()
    audit_seal()
    audit_checkpoint_create()
    for table in ("audit_auditseal", "audit_auditcheckpoint"):
        for statement in (f"UPDATE {table} SET hash = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(statement)
    assert AuditSeal.objects.exists() and AuditCheckpoint.objects.exists()


@pytest.mark.django_db
def test_the_old_session_switch_opens_nothing():
    """`SET LOCAL opsportal.audit_maintenance = 'on'` used to let DELETE through."""
    entry = _entry()
    for statement in ("DELETE FROM audit_auditentry", "TRUNCATE audit_auditentry"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL opsportal.audit_maintenance = 'on'")
                cursor.execute(statement)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_deleting_needs_the_archiver_role_even_for_a_superuser():
    """DELETE passes only inside audit_archive_through(), owned by a role that cannot log
    in; on a database where the roles are not set up yet it fails, clearly."""
    entry = _entry()
    audit_seal()
    with pytest.raises(DatabaseError, match="owned by the archiver role"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT audit_archive_through(%s, 'x', 'f', 'h')", [entry.id])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


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
