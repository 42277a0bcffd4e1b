"""Rotation moved out of incidents with state-only migrations: on a database migrated before
the move, the rows stay in their tables and the content types (so the permissions and the
role groups holding them) follow the models to the rotation app."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# Unapplying rotation unapplies incidents 0006 too: the schema of main before the move.
BEFORE_THE_MOVE = [("rotation", None)]
INCIDENTS_BEFORE = ("incidents", "0005_approval_expired")
MODELS = ("supabaseproject", "rotationrun", "rotationstep", "rotationtarget")


def _migrate(targets, state_at):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(state_at).apps


@pytest.mark.django_db(transaction=True)
def test_rows_stay_and_permissions_follow_the_models_to_rotation():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    before = [n for n in leaves if n[0] not in ("incidents", "rotation")] + [INCIDENTS_BEFORE]
    old = _migrate(BEFORE_THE_MOVE, before)
    ContentType = old.get_model("contenttypes", "ContentType")
    assert set(
        ContentType.objects.filter(app_label="incidents", model__in=MODELS).values_list(
            "model", flat=True
        )
    ) == set(MODELS)
    Incident = old.get_model("incidents", "Incident")
    incident = Incident.objects.create(
        runbook_key="credential_leak",
        runbook_title="Supabase Credential Leak",
        title="leak",
        opened_by_name="system",
        detected_at=timezone.now(),
        opened_at=timezone.now(),
    )
    project = old.get_model("incidents", "SupabaseProject").objects.create(
        environment="production",
        project_ref="ref",
        primary_owner="Grace",
        service_role_secret_id="x",
    )
    run = old.get_model("incidents", "RotationRun").objects.create(
        incident=incident,
        project=project,
        leaked_fingerprint="fp",
        leaked_kind="secret",
        status="failed",
        failed_step=6,
        prepared_by_name="system",
        created_at=timezone.now(),
    )
    old.get_model("incidents", "RotationStep").objects.create(run=run, number=1, key="notify_owner")
    Group = old.get_model("auth", "Group")
    group = Group.objects.create(name="move-check")
    group.permissions.add(
        old.get_model("auth", "Permission").objects.get(
            content_type__app_label="incidents", codename="view_rotationrun"
        )
    )

    _migrate(leaves, leaves)

    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from rotation.models import RotationRun, RotationStep, SupabaseProject

    ContentType.objects.clear_cache()
    moved = RotationRun.objects.get(pk=run.pk)
    assert (moved.status, moved.failed_step, moved.incident_id) == ("failed", 6, incident.pk)
    assert SupabaseProject.objects.get(pk=project.pk).primary_owner == "Grace"
    assert RotationStep.objects.filter(run=moved).count() == 1
    assert not ContentType.objects.filter(app_label="incidents", model__in=MODELS).exists()
    assert (
        Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(RotationRun), codename="view_rotationrun"
        ).get()
        in Group.objects.get(pk=group.pk).permissions.all()
    )
