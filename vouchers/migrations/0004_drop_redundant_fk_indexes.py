"""Drop four foreign-key indexes that composite indexes already cover.

Only the indexes go: the AlterFields are state-only, because altering the fields in
the database would drop and re-add their foreign keys, re-checking whole tables under
locks that stop redemptions. On PostgreSQL the indexes are dropped CONCURRENTLY
(outside a transaction), so writers never wait.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {  # Django's names for the single-column FK indexes, and what they index
    "vouchers_idempotencyrecord_station_id_9e4b6f63": ("vouchers_idempotencyrecord", "station_id"),
    "vouchers_redeemattempt_station_id_06601bd1": ("vouchers_redeemattempt", "station_id"),
    "vouchers_redeemratewindow_station_id_6245521c": ("vouchers_redeemratewindow", "station_id"),
    "vouchers_voucherevent_voucher_id_17525d71": ("vouchers_voucherevent", "voucher_id"),
}


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def drop_indexes(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX{_concurrently(schema_editor)} IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX{_concurrently(schema_editor)} IF NOT EXISTS {name} ON {table} ({column})"
        )


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("vouchers", "0003_idempotency_purge_schedule"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="idempotencyrecord",
                    name="station",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="vouchers.station",
                    ),
                ),
                migrations.AlterField(
                    model_name="redeemattempt",
                    name="station",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="vouchers.station",
                    ),
                ),
                migrations.AlterField(
                    model_name="redeemratewindow",
                    name="station",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="vouchers.station",
                    ),
                ),
                migrations.AlterField(
                    model_name="voucherevent",
                    name="voucher",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="vouchers.voucher",
                    ),
                ),
            ],
        ),
    ]
