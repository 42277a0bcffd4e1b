"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the audit log.

`audit_refuse_change()` raises unless the *transaction-local* setting
`opsportal.audit_maintenance` is 'on' (`SET LOCAL opsportal.audit_maintenance = 'on'`),
and even then only DELETE and TRUNCATE pass, never UPDATE: rows may be moved out
(the documented archival command, the test suite's flush), never edited.
SET LOCAL dies with its transaction, so the hatch cannot stay open on a pooled
connection. The trigger stops the application, the admin and careless SQL; a
database owner can still disable triggers, which the hash chain and the signed
checkpoints detect (see README, "Audit log").

SQLite (the embedded default) has no such triggers; it still migrates.
"""

from django.db import migrations

REFUSE_FUNCTION = """
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


def protect_sql(table: str) -> str:
    return f"""
    CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
    CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
    """


def unprotect_sql(table: str) -> str:
    return f"""
    DROP TRIGGER IF EXISTS {table}_no_change ON {table};
    DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
    """


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE_FUNCTION, params=None)
    schema_editor.execute(protect_sql("audit_auditentry"), params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(unprotect_sql("audit_auditentry"))
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
