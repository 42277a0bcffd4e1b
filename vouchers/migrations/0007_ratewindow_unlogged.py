"""The rate window table becomes UNLOGGED on PostgreSQL: its counts are committed on their
own, before each redemption (vouchers/redeem_sql.py RATE_SQL), and a transaction that
writes only unlogged tables commits without waiting for a WAL flush. What that gives up:
after a crash or a failover the current minute's counts start again from zero."""

from django.db import migrations

TABLE = "vouchers_redeemratewindow"


def _persistence(mode):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {TABLE} SET {mode}")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("vouchers", "0006_preview_failure"),
    ]

    operations = [
        migrations.RunPython(_persistence("UNLOGGED"), _persistence("LOGGED")),
    ]
