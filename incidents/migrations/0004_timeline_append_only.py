"""PostgreSQL refuses UPDATE and DELETE on incident timelines: append-only, like the audit log.

TRUNCATE (the test suite's flush) is left alone; incidents themselves are PROTECTed by
the timeline's foreign key, so no cascade removes entries either. SQLite has no trigger.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION incidents_timeline_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the incident timeline is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER incidents_timelineentry_no_change BEFORE UPDATE OR DELETE
    ON incidents_timelineentry FOR EACH ROW EXECUTE FUNCTION incidents_timeline_refuse_change();
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS incidents_timelineentry_no_change ON incidents_timelineentry;
DROP FUNCTION IF EXISTS incidents_timeline_refuse_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_rotation")]

    operations = [migrations.RunPython(install, uninstall)]
