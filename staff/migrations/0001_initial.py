"""ApiToken moves here from `opsportal` (issue #18): state only, the table stays as it is.

`opsportal.0003_move_apitoken_to_staff` removes it from opsportal's state after this one;
`0002_apitoken_content_type` carries the content type (and so its permissions) over.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("opsportal", "0001_initial"),  # creates the table opsportal_apitoken
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiToken",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(blank=True, max_length=100)),
                        ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("prefix", models.CharField(editable=False, help_text="First characters, to tell tokens apart", max_length=12)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("last_used_ip", models.GenericIPAddressField(blank=True, editable=False, null=True)),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="api_tokens", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "staff API token",
                        "ordering": ["-created_at"],
                        "db_table": "opsportal_apitoken",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
