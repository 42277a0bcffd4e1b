"""No session-settable switch past the audit triggers; archiving only by a separate role.

Until now `SET LOCAL opsportal.audit_maintenance = 'on'` let DELETE and TRUNCATE
through, and any role with DELETE could set it. Now:

- UPDATE and TRUNCATE on entries, seals and checkpoints are refused for everyone, and
  DELETE on checkpoints too (the test suite's flush, as a superuser, passes with
  `session_replication_role = replica`, which only a superuser may set).
- DELETE on entries and seals passes only while `current_user` is the owner of
  `audit_archive_through()` *and* that owner cannot log in: i.e. inside that
  SECURITY DEFINER function, once `manage.py db_roles` has given it to the NOLOGIN
  archiver role. Until then (a fresh or development database, the function owned by
  the migrating login role) nothing can delete rows, archiving included.
- EXECUTE on the function is revoked from PUBLIC; the roles script grants it to the
  owner role only (never to the application's role).

The function checks that a signed archive checkpoint names the entry it cuts at, deletes
the seals and entries up to it and writes its own `audit.archived` entry (with the
database role that ran it). Replacing it in a later migration needs the DBA: only its
owner (the archiver role) or a superuser may.
"""

from django.db import migrations

ARCHIVE_SIGNATURE = "audit_archive_through(bigint,text,text,text)"

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('audit_auditentry', 'audit_auditseal')
       AND EXISTS (
           SELECT 1 FROM pg_catalog.pg_proc p
           JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
           WHERE p.oid = pg_catalog.to_regprocedure('{schema}.{signature}')
             AND r.rolname = current_user AND NOT r.rolcanlogin) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

ARCHIVE_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.audit_archive_through(
    p_through_id bigint, p_actor_name text, p_file text, p_file_sha256 text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    v_hash text;
    v_removed bigint;
BEGIN
    IF (SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'audit_archive_through() must be owned by the archiver role (NOLOGIN): run the SQL of manage.py db_roles --print-sql first'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT hash INTO v_hash FROM audit_auditseal WHERE entry_id = p_through_id;
    IF v_hash IS NULL THEN
        RAISE EXCEPTION 'entry % is not a sealed entry', p_through_id;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM audit_auditcheckpoint
        WHERE kind = 'archive' AND number IS NOT NULL
          AND entry_id = p_through_id AND hash = v_hash
    ) THEN
        RAISE EXCEPTION 'no signed archive checkpoint names entry %', p_through_id;
    END IF;
    DELETE FROM audit_auditseal WHERE entry_id <= p_through_id;
    DELETE FROM audit_auditentry WHERE id <= p_through_id;
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    INSERT INTO audit_auditentry (
        at, actor_id, actor_name, action, target_type, target_id, target_repr,
        incident_id, data, request_id
    ) VALUES (
        clock_timestamp(), NULL, p_actor_name, 'audit.archived', '', '', '', NULL,
        jsonb_build_object(
            'through_id', p_through_id, 'count', v_removed, 'anchor_hash', v_hash,
            'file', p_file, 'file_sha256', p_file_sha256, 'db_role', session_user::text
        ),
        ''
    );
    RETURN v_removed;
END;
$$;
REVOKE ALL ON FUNCTION {schema}.{signature} FROM PUBLIC;
"""

OLD_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND current_setting('opsportal.audit_maintenance', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    names = {"schema": _schema(schema_editor), "signature": ARCHIVE_SIGNATURE}
    schema_editor.execute(ARCHIVE_FUNCTION.format(**names), params=None)
    schema_editor.execute(REFUSE_FUNCTION.format(**names), params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(OLD_REFUSE_FUNCTION, params=None)
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {ARCHIVE_SIGNATURE};", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_signed_checkpoints")]

    operations = [migrations.RunPython(install, uninstall)]
