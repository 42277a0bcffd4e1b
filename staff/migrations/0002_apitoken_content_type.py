"""The `opsportal | apitoken` content type becomes `staff | apitoken`.

Renaming the row keeps its id, so the permissions that point at it (`change_apitoken`,
…), the groups and users holding them and the admin's history stay attached.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    _move(apps, old="opsportal", new="staff")


def backwards(apps, schema_editor):
    _move(apps, old="staff", new="opsportal")


def _move(apps, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    moving = ContentType.objects.filter(app_label=old, model="apitoken").first()
    if moving is None:  # a fresh database: post_migrate creates `staff | apitoken` later
        return
    # Should a `staff | apitoken` row exist already (created by a create_permissions call
    # in between), it holds no assignments worth keeping: the old row's are the real ones.
    stale = ContentType.objects.filter(app_label=new, model="apitoken").first()
    if stale is not None:
        Permission.objects.filter(content_type=stale).delete()
        stale.delete()
    moving.app_label = new
    moving.save(update_fields=["app_label"])


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("opsportal", "0003_move_apitoken_to_staff"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
