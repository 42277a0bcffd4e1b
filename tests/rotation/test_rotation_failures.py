"""A failure injected at each step → the documented outcome, then resume finishes the job.

Steps 1–2 fail before anything changed; 3–5 roll back (previous values restored, nothing
revoked); 6–9 stop with the targets table saying who holds which key, and resume
continues from the failed step (needing a fresh approval).
"""

import pytest

from incidents.models import TimelineEntry
from rotation import saga
from rotation.models import RotationRun
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)
from tests.rotation.rotation_support import FUNCTION_SECRET, SECRET_ID

pytestmark = pytest.mark.django_db

DB_SESSIONS = "django.contrib.sessions.backends.db"


def _inject(world, settings, number):
    sim = world.sim
    return {
        1: lambda s: (sim.set_fault("slack", status=503), setattr(s.project, "owner_email", "")),
        2: lambda s: world.aws.put_secret_value(SecretId=SECRET_ID, SecretString=world.leaked),
        3: lambda s: sim.set_deploy_result("ERROR"),
        4: lambda s: sim.set_fault("supabase_management", status=500),
        5: lambda s: sim.set_fault("supabase_auth", revoked=True),
        6: lambda s: sim.set_fault("supabase_management", status=503),
        7: lambda s: setattr(settings, "SESSION_ENGINE", "django.contrib.sessions.backends.cache"),
        8: lambda s: sim.set_fault("supabase_auth", status=503),
        9: lambda s: sim.set_fault("slack", status=500),
    }[number]


def _clear(world, settings, number):
    world.sim.clear_faults()
    world.sim.set_deploy_result("READY")
    settings.SESSION_ENGINE = DB_SESSIONS
    if number == 2:
        world.aws.put_secret_value(SecretId=SECRET_ID, SecretString=world.new)


@pytest.mark.parametrize("number", range(1, 10))
def test_failure_at_each_step_has_the_documented_outcome_and_resume_finishes(
    number, world, rotate, settings, monkeypatch
):
    inject = _inject(world, settings, number)

    def failing_once(original):
        def step(s, row):
            if row.attempts == 1:
                inject(s)
            return original(s, row)

        return step

    monkeypatch.setattr(
        saga,
        "STEPS",
        tuple((n, key, failing_once(func) if n == number else func) for n, key, func in saga.STEPS),
    )

    run = rotate()

    assert run.failed_step == number and run.error
    steps = dict(run.steps.values_list("number", "status"))
    assert all(steps[n] in ("done", "rolled_back") for n in range(1, number))
    assert steps[number] in ("failed", "rolled_back")
    assert all(steps[n] == "pending" for n in range(number + 1, 10))
    stopped = TimelineEntry.objects.filter(kind="rotation_stopped").last()
    _clear(world, settings, number)
    if number <= 2:  # nothing changed yet
        assert run.status == RotationRun.Status.FAILED
        assert world.vercel_value() == world.leaked
        assert world.function_secret(FUNCTION_SECRET) == world.leaked
        assert world.builds() == []
    elif number <= 5:  # rollback: previous values back, nothing revoked
        assert run.status == RotationRun.Status.ROLLED_BACK
        assert world.vercel_value() == world.leaked
        assert world.function_secret(FUNCTION_SECRET) == world.leaked
        assert world.leaked_id in world.api_key_ids() and world.accepted(world.leaked)
        restored = run.targets.filter(kind__in=["vercel_env", "function_secret"])
        assert {t.state for t in restored} <= {"restored", "old"}
        assert all(t.fingerprint == run.leaked_fingerprint for t in restored)
        assert "previous values restored, nothing revoked" in stopped.message
    else:  # stopped after the new key is everywhere: the incident says who holds what
        assert run.status == RotationRun.Status.FAILED
        assert world.vercel_value() == world.new
        assert world.function_secret(FUNCTION_SECRET) == world.new
        assert (world.leaked_id in world.api_key_ids()) is (number == 6)
        assert f"{run.new_fingerprint} (new)" in stopped.message
        assert "resume continues" in stopped.message
    if number >= 3:
        assert run.leaked_fingerprint in stopped.message

    resumed = rotate(run)

    assert resumed.status == RotationRun.Status.SUCCEEDED, resumed.error
    assert list(resumed.steps.values_list("status", flat=True)) == ["done"] * 9
    assert world.vercel_value() == world.new
    assert world.function_secret(FUNCTION_SECRET) == world.new
    assert world.leaked_id not in world.api_key_ids()
    assert not world.accepted(world.leaked) and world.accepted(world.new)
    summaries = [
        c
        for c in world.sim.calls("slack", "POST")
        if (c["body"] or {}).get("channel") == "#ops" and c["status"] == 200
    ]
    assert len(summaries) == 1
    owner_notices = [
        c
        for c in world.sim.calls("slack", "POST")
        if (c["body"] or {}).get("channel") == "U0GRACE" and c["status"] == 200
    ]
    assert len(owner_notices) == 1


def test_a_run_whose_worker_died_is_resumable_once_stale_and_not_before(
    world, rotate, leak_incident, admin_user, settings
):
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from rotation.services import rotation_prepare, rotation_request

    run = rotation_prepare(
        incident=leak_incident,
        project=world.project,
        leaked_key=world.leaked,
        leaked_key_id=world.leaked_id,
        actor=admin_user,
    )
    # A worker claimed it and was killed (django-q2 timeout, OOM) right after step 2.
    RotationRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    with pytest.raises(ValidationError, match="running"):
        rotation_request(run=run, actor=admin_user)
    stale = timezone.now() - timedelta(seconds=settings.ROTATION_STALE_SECONDS + 1)
    RotationRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)

    resumed = rotate(run)

    assert resumed.status == RotationRun.Status.SUCCEEDED, resumed.error
    assert world.vercel_value() == world.new and not world.accepted(world.leaked)
