"""Schedule the hourly purge of expired idempotency records (django-q2)."""

from django.db import migrations

NAME = "vouchers: purge expired idempotency records"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "vouchers.tasks.idempotency_records_purge_task",
            "schedule_type": "H",
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("vouchers", "0002_redeem_attempts_idempotency"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
