"""A run whose worker died after its side effect may have happened is *outcome unknown*,
not failed, with what was recorded before it stopped; running it again needs "I checked:
run again" (page, staff API, service), and that confirmation is audited."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from incidents.engine.execute import runs_fail_stale
from incidents.models import IncidentNote, IncidentStep, StepRun
from incidents.services import step_rerun, step_run_request
from tests.incidents.lost_worker_action import (
    KEY,
    SIDE_EFFECT,
    lost_worker_action_register,
    lost_worker_action_unregister,
)

ROOT = Path(__file__).resolve().parents[2]
WORKER = (
    "import os, sys, django\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'opsportal.settings')\n"
    "django.setup()\n"
    "from tests.incidents.lost_worker_action import lost_worker_action_register\n"
    "lost_worker_action_register()\n"
    "from incidents.tasks import step_run_execute\n"
    "step_run_execute(int(sys.argv[1]))\n"
)


@pytest.fixture
def lost_worker_step(open_incident, ops_user):
    lost_worker_action_register()
    incident = open_incident(actor=ops_user)
    step = IncidentStep.objects.create(
        incident=incident,
        position=999,
        phase="mitigation",
        number="9.9",
        key="acts_then_hangs",
        kind=IncidentStep.Kind.ACTION,
        text="Act, then call a slow service",
        action_key=KEY,
    )
    yield step
    lost_worker_action_unregister()


def _wait(predicate, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def _kill_the_worker_mid_run(run: StepRun) -> None:
    """A real worker process claims the run, acts, and is SIGKILLed while it hangs."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(run.pk)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def acted():
            assert worker.poll() is None, "the worker exited before it was killed"
            run.refresh_from_db()
            return "sub-call 1/2 done" in run.log

        _wait(acted, "the worker to act")
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_acting_leaves_the_run_outcome_unknown(
    lost_worker_step, ops_user, client_for, settings
):
    settings.INCIDENT_RUN_STALE_SLACK_SECONDS = 0  # lost = silent past the 1 s budget
    run = step_run_request(step=lost_worker_step, actor=ops_user)
    _kill_the_worker_mid_run(run)
    run.refresh_from_db()
    assert run.status == "running"  # nobody knows yet

    _wait(lambda: runs_fail_stale() == 1, "the sweep to find the lost run", seconds=30)

    run.refresh_from_db()
    lost_worker_step.refresh_from_db()
    assert run.status == "outcome_unknown" and lost_worker_step.status == "outcome_unknown"
    assert IncidentNote.objects.filter(text=SIDE_EFFECT).count() == 1  # it did act
    known = run.result["known"]
    assert any("sub-call 1/2 done: note #" in line for line in known), known
    assert "Recorded before it stopped: sub-call 1/2 done" in run.log
    assert "outcome unknown" in run.error
    entry = AuditEntry.objects.get(action="incident.step_run", data__run_id=run.pk)
    assert entry.data["outcome"] == "outcome_unknown"
    assert lost_worker_step.incident.timeline.filter(kind="run_outcome_unknown").exists()

    # The page says so and offers the confirmation; without it nothing is queued.
    client = client_for(ops_user)
    page = reverse("admin:incidents_incident_work", args=[run.incident_id])
    html = client.get(page).content.decode()
    assert "outcome unknown" in html and 'name="confirm_rerun"' in html
    act = reverse("admin:incidents_incident_act", args=[run.incident_id])
    response = client.post(act, {"op": "rerun", "run": run.pk}, follow=True)
    assert "I checked: run again" in response.content.decode()
    api = reverse("staff-api:incident-step-run", args=[run.incident_id, lost_worker_step.key])
    response = client.post(api, {}, content_type="application/json")
    assert response.status_code == 400 and "outcome is unknown" in response.json()["detail"]
    with pytest.raises(ValidationError, match="outcome is unknown"):
        step_rerun(run=run, actor=ops_user)
    assert StepRun.objects.filter(step=lost_worker_step).count() == 1
    assert not AuditEntry.objects.filter(action="incident.step_rerun_confirmed").exists()

    # "I checked: run again": queued, on the timeline and audited.
    client.post(act, {"op": "rerun", "run": run.pk, "confirm_rerun": "yes"})
    again = StepRun.objects.filter(step=lost_worker_step).exclude(pk=run.pk).get()
    assert again.status == "queued" and again.rerun_of_id == run.pk
    confirmed = AuditEntry.objects.get(action="incident.step_rerun_confirmed")
    assert confirmed.actor_name == ops_user.username and confirmed.data["lost_run_id"] == run.pk
    assert lost_worker_step.incident.timeline.filter(kind="rerun_confirmed").exists()


@pytest.mark.django_db
def test_a_lost_run_of_a_retry_safe_action_or_a_dry_run_is_simply_failed(
    open_incident, step_of, support_user, voucher_factory
):
    voucher = voucher_factory()
    incident = open_incident(impacted=[("vouchers.voucher", voucher.pk, voucher.code)])
    review = step_run_request(step=step_of(incident, "voucher_review"), actor=support_user)
    StepRun.objects.filter(pk=review.pk).update(
        status="running", started_at=timezone.now() - timedelta(hours=1)
    )
    assert runs_fail_stale() == 1
    review.refresh_from_db()
    assert review.status == "failed"  # read-only and safe to retry: nothing to check
    step = step_of(incident, "voucher_review")
    assert step.status == "failed"
    # A failed step needs no confirmation to run again.
    assert step_run_request(step=step, actor=support_user).status == "queued"
