"""The moved models' content types follow them (incidents → rotation), so their permissions
(view_rotationrun, change_supabaseproject, …), the role groups holding them and anything
else pointing at those rows keep working. On a fresh database there is nothing to rename:
the content types are created after migrate, under rotation."""

from django.db import migrations

MODELS = ("supabaseproject", "rotationrun", "rotationstep", "rotationtarget")


def _move(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(
        ContentType.objects.filter(app_label=target, model__in=MODELS).values_list(
            "model", flat=True
        )
    )
    ContentType.objects.filter(app_label=source, model__in=set(MODELS) - taken).update(
        app_label=target
    )


def forwards(apps, schema_editor):
    _move(apps, "incidents", "rotation")


def backwards(apps, schema_editor):
    _move(apps, "rotation", "incidents")


class Migration(migrations.Migration):
    dependencies = [
        ("rotation", "0001_initial"),
        ("incidents", "0006_rotation_moved_out"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
