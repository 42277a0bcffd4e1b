from django.db import migrations

SCHEDULE_NAME = "campaigns.dispatch_watchdog"


def create_schedule(apps, schema_editor):
    # Every minute: worker heartbeat, and re-kick running campaigns whose worker died
    # or whose wait (quiet hours, backoff) is over.
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "campaigns.tasks.dispatch_watchdog",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_dispatcher"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
