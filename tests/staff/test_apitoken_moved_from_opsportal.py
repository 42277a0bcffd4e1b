"""ApiToken moved from `opsportal` to `staff` without touching its table: tokens issued
before still authenticate, and permissions granted before still hold."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from staff.models import ApiToken
from staff.services import api_token_create

pytestmark = pytest.mark.django_db


def _migrate(*targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    ContentType.objects.clear_cache()


def test_the_table_is_the_one_opsportal_created():
    assert ApiToken._meta.db_table == "opsportal_apitoken"
    assert ApiToken._meta.app_label == "staff"


def test_the_content_type_row_is_renamed_so_granted_permissions_survive(client, ops_user):
    issued = api_token_create(user=ops_user, name="before the move")
    change = Permission.objects.get(content_type__app_label="staff", codename="change_apitoken")
    ops_user.user_permissions.add(change)

    # Back to the state before the move: the row is `opsportal | apitoken` again …
    _migrate(("staff", None))
    assert ContentType.objects.get(pk=change.content_type_id).app_label == "opsportal"
    # … and forward: the same row (same id, same permissions) is `staff | apitoken`.
    _migrate(("staff", "0002_apitoken_content_type"), ("opsportal", "0003_move_apitoken_to_staff"))

    assert ContentType.objects.get(pk=change.content_type_id).app_label == "staff"
    user = type(ops_user).objects.get(pk=ops_user.pk)  # fresh permission cache
    assert user.has_perm("staff.change_apitoken")
    response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert response.status_code == 200 and response.json()["username"] == ops_user.username
