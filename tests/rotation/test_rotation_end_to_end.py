"""A full, approved rotation: the new key everywhere, the leaked one revoked and refused."""

import pytest
from django.core import mail

from audit.models import AuditEntry
from incidents.models import StepRun
from rotation.models import RotationRun
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)
from tests.rotation.rotation_support import FUNCTION_SECRET, SECRET_ID

pytestmark = pytest.mark.django_db


def test_full_rotation_puts_the_new_key_everywhere_and_revokes_the_leaked_one(
    world, rotate, admin_user, second_admin
):
    assert world.accepted(world.leaked) and world.accepted(world.new)
    before = world.production()

    run = rotate()

    assert run.status == RotationRun.Status.SUCCEEDED, run.error
    assert list(run.steps.values_list("status", flat=True)) == ["done"] * 9
    # Simulator and moto state: the new key everywhere, the leaked key revoked.
    assert world.vercel_value() == world.new
    assert world.function_secret(FUNCTION_SECRET) == world.new
    assert world.leaked_id not in world.api_key_ids()
    assert not world.accepted(world.leaked) and world.accepted(world.new)
    assert world.aws.get_secret_value(SecretId=SECRET_ID)["SecretString"] == world.new
    [build] = world.builds()  # one redeploy, of what served production, now serving it
    assert build["readyState"] == "READY" and build["id"] == world.production()
    assert run.steps.get(number=3).data["redeployed"] == build["source"] == before
    revoke = world.sim.calls("supabase_management", "DELETE")[-1]
    assert revoke["path"].endswith(f"/api-keys/{world.leaked_id}")
    assert revoke["query"]["was_compromised"] == "true"
    # The portal recorded fingerprints, timings and who approved.
    assert run.new_fingerprint and run.new_fingerprint != run.leaked_fingerprint
    assert run.rotated_at and run.finished_at
    assert all(s.started_at and s.finished_at for s in run.steps.all())
    states = {(t.kind, t.state, t.fingerprint) for t in run.targets.all()}
    assert ("vercel_env", "new", run.new_fingerprint) in states
    assert ("function_secret", "new", run.new_fingerprint) in states
    assert ("supabase_key", "revoked", run.leaked_fingerprint) in states
    step_run = StepRun.objects.get(action_key="supabase_key_rotate")
    assert step_run.status == "succeeded" and step_run.approval.decided_by == second_admin
    assert step_run.actor == admin_user
    # Owner notified (Slack DM + e-mail), summary with timestamp in #ops.
    slack = [c["body"] for c in world.sim.calls("slack") if c["path"].endswith("postMessage")]
    assert slack[0]["channel"] == "U0GRACE" and "starting" in slack[0]["text"]
    assert slack[-1]["channel"] == "#ops"
    assert f"{run.rotated_at:%Y-%m-%d %H:%M:%S} UTC" in slack[-1]["text"]
    assert mail.outbox and mail.outbox[0].to == ["grace@example.com"]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "rotation.prepared",
        "rotation.step_done",
        "rotation.succeeded",
        "rotation.summary_posted",
        "staff.sessions_invalidated",
    } <= actions


def test_a_legacy_leaked_key_is_dealt_with_by_disabling_legacy_keys(
    world, rotate, leak_incident, admin_user
):
    from rotation.services import rotation_prepare

    legacy = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNpbQ"
    world.aws.put_secret_value(SecretId=SECRET_ID, SecretString=legacy)
    world.aws.put_secret_value(SecretId=SECRET_ID, SecretString=world.new)
    run = rotation_prepare(
        incident=leak_incident, project=world.project, leaked_key=legacy, actor=admin_user
    )
    assert world.accepted(legacy)

    run = rotate(run)

    assert run.status == "succeeded", run.error
    assert world.sim.state()["legacy_keys_enabled"] is False
    assert not world.accepted(legacy) and world.accepted(world.new)
    assert run.steps.get(number=8).data["old_refused"] is True
