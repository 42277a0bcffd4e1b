"""Rotation's models now belong to the rotation app (rotation/migrations/0001_initial.py):
removed from the incidents state only; the tables stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0005_approval_expired"),
        ("rotation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(model_name="rotationrun", name="incident"),
                migrations.RemoveField(model_name="rotationrun", name="prepared_by"),
                migrations.RemoveField(model_name="rotationrun", name="project"),
                migrations.RemoveField(model_name="rotationstep", name="run"),
                migrations.RemoveField(model_name="rotationtarget", name="run"),
                migrations.DeleteModel(name="SupabaseProject"),
                migrations.DeleteModel(name="RotationStep"),
                migrations.DeleteModel(name="RotationRun"),
                migrations.DeleteModel(name="RotationTarget"),
            ],
        ),
    ]
