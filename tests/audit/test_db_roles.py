"""The database roles of a production installation, attacked from their own connections.

The application's role and a plain role holding every table privilege try what issue
#14 describes (the old `SET LOCAL` switch, deleting the newest checkpoints, seals and an
entry, inserting a rewritten entry) and everything else they might: all refused, the log
unchanged and still verifying. Archiving works only through the function, for the owner.
"""

import psycopg
import pytest
from django.core.management import call_command

import audit
from audit.checkpoints import audit_checkpoint_create
from audit.models import AuditCheckpoint, AuditEntry, AuditSeal
from audit.sealing import audit_seal
from audit.verification import audit_verify

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = ("audit_auditentry", "audit_auditseal", "audit_auditcheckpoint")


@pytest.fixture
def sealed_log():
    made = [audit.record(action="test.roles", target_id=str(i), data={"i": i}) for i in range(6)]
    audit_seal()
    audit_checkpoint_create()
    return made


def _refused(conn: psycopg.Connection, statement: str, params=None) -> str:
    """Run one statement in its own transaction; return the database's refusal."""
    with pytest.raises(psycopg.Error) as caught:
        with conn.transaction():
            conn.execute(statement, params)
    return str(caught.value)


def _unchanged(entries) -> None:
    assert AuditEntry.objects.filter(id__in=[e.id for e in entries]).count() == len(entries)
    assert AuditSeal.objects.count() == len(entries)
    assert AuditCheckpoint.objects.count() == 1
    result = audit_verify()
    assert result.ok, result.problem


def test_the_app_role_can_append_and_read_but_never_change(roles, sealed_log):
    victim = sealed_log[-2].id
    with roles.connect(roles.app) as app:
        app.execute(
            "INSERT INTO audit_auditentry (at, actor_name, action, target_type, target_id,"
            " target_repr, data, request_id) VALUES (now(), 'app', 'test.appended', '', '',"
            " '', '{}', '')"
        )
        assert app.execute("SELECT count(*) FROM audit_auditseal").fetchone()[0] == 6
        for table in TABLES:
            for statement in (
                f"UPDATE {table} SET hash = 'x'"
                if table != TABLES[0]
                else f"UPDATE {table} SET action = 'x'",
                f"DELETE FROM {table}",
                f"TRUNCATE {table}",
            ):
                assert "permission denied" in _refused(app, statement)
            assert "must be owner" in _refused(app, f"ALTER TABLE {table} DISABLE TRIGGER USER")
            assert "must be owner" in _refused(app, f"DROP TRIGGER {table}_no_change ON {table}")
        assert "permission denied" in _refused(app, "SET session_replication_role = replica")
        assert "permission denied" in _refused(
            app, "SELECT audit_archive_through(%s, 'app', 'f', 'h')", [victim]
        )
        assert "permission denied for schema" in _refused(  # no CREATE: cannot replace it
            app,
            "CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
        )
    assert AuditEntry.objects.filter(action="test.appended").exists()
    _unchanged(sealed_log)


def test_a_plain_role_with_delete_and_the_old_switch_is_refused(roles, sealed_log):
    """Issue #14's attack: not the owner, not a superuser, but INSERT/DELETE (and here
    UPDATE and TRUNCATE too) on every audit table, and the archiving session switch."""
    with roles.connect(roles.owner) as admin:
        admin.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON {', '.join(TABLES)}"
            f' TO "{roles.plain}"'
        )
    newest = sealed_log[-1]
    with roles.connect(roles.plain, autocommit=False) as plain:
        steps = [
            "DELETE FROM audit_auditcheckpoint WHERE entry_id = %s",
            "DELETE FROM audit_auditseal WHERE entry_id = %s",
            "DELETE FROM audit_auditentry WHERE id = %s",
            "UPDATE audit_auditentry SET data = '{\"i\": 99}' WHERE id = %s",
            "TRUNCATE audit_auditentry",
        ]
        for statement in steps:
            plain.execute("SET LOCAL opsportal.audit_maintenance = 'on'")
            with pytest.raises(psycopg.Error, match="append-only"):
                plain.execute(statement, [newest.id] if "%s" in statement else None)
            plain.rollback()
        # Nothing was removed, so re-inserting a rewritten entry under the old id fails too.
        plain.execute("SET LOCAL opsportal.audit_maintenance = 'on'")
        with pytest.raises(psycopg.errors.UniqueViolation):
            plain.execute(
                "INSERT INTO audit_auditentry (id, at, actor_name, action, target_type,"
                " target_id, target_repr, data, request_id) VALUES (%s, now(), 'system',"
                " 'test.roles', '', '5', '', '{\"i\": 99}', '')",
                [newest.id],
            )
        plain.rollback()
    call_command("seal_audit")  # "let the sealer re-chain": there is nothing to re-chain
    _unchanged(sealed_log)


def test_only_the_owner_archives_through_the_function(roles, sealed_log, tmp_path):
    """The owner (here the suite's connection, which owns the tables) may call the archive
    function; the rows go, the function writes its own audit entry, the rest verifies."""
    through = sealed_log[2].id
    with roles.connect(roles.owner) as owner:
        # Even the owner cannot simply delete: the trigger wants the archiver role.
        assert "append-only" in _refused(
            owner, "DELETE FROM audit_auditentry WHERE id <= %s", [through]
        )
    call_command("archive_audit", through_id=through, out=str(tmp_path / "a.jsonl"))
    assert not AuditEntry.objects.filter(id__lte=through).exists()
    archived = AuditEntry.objects.get(action="audit.archived")
    assert archived.data["through_id"] == through and archived.data["count"] == 3
    assert archived.data["db_role"] == roles.owner
    audit_seal()
    audit_checkpoint_create()
    assert audit_verify().ok
