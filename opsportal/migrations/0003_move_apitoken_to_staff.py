"""ApiToken now belongs to the `staff` app (staff/migrations/0001_initial.py): state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("opsportal", "0002_roles"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiToken")],
            database_operations=[],
        ),
    ]
