import datetime as dt

import pytest
from django.utils import timezone

from incidents.gates import gates_evaluate_all
from incidents.models import IncidentStep
from incidents.services import incident_note_add
from incidents.tasks import incidents_tick
from incidents.timers import escalations_announce

pytestmark = pytest.mark.django_db


def test_a_gate_past_its_deadline_turns_overdue_and_still_passes_later(
    open_incident, step_of, support_user, ops_user
):
    from incidents.services import incident_step_complete

    incident = open_incident("station_redeem")
    for key in ("void_replace", "scope"):  # the mitigation the note records has run
        incident_step_complete(step=step_of(incident, key), actor=ops_user, note="n/a", skip=True)
    gate = step_of(incident, "note")
    IncidentStep.objects.filter(pk=gate.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    gates_evaluate_all(min_interval=dt.timedelta(0))
    gate.refresh_from_db()
    assert gate.status == "failed"
    assert incident.timeline.filter(kind="gate_overdue").count() == 1
    incident_note_add(incident=incident, text="done", actor=support_user)
    gates_evaluate_all(min_interval=dt.timedelta(0))
    gate.refresh_from_db()
    assert gate.status == "done" and incident.timeline.filter(kind="gate_passed").exists()


def test_escalation_without_slack_is_still_recorded_once(open_incident, step_of, settings):
    settings.SLACK_ENABLED = False
    incident = open_incident("whatsapp_send")
    IncidentStep.objects.filter(pk=step_of(incident, "notify_provider").pk).update(
        due_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert escalations_announce() == 1
    assert escalations_announce() == 0
    entry = incident.timeline.get(kind="escalation_due")
    assert "Slack announcement failed" in entry.message


def test_the_tick_task_runs_gates_timers_and_stale_runs(open_incident):
    open_incident("station_redeem")
    result = incidents_tick()
    assert set(result) == {
        "pages_retried",
        "approvals_expired",
        "gates_checked",
        "escalations_announced",
        "stale_runs_failed",
    }


def test_a_run_whose_worker_died_is_failed_by_the_tick(
    open_incident, step_of, support_user, voucher_factory
):
    from incidents.models import StepRun
    from incidents.services import step_run_request

    voucher = voucher_factory()
    incident = open_incident(impacted=[("vouchers.voucher", voucher.pk, voucher.code)])
    run = step_run_request(step=step_of(incident, "voucher_review"), actor=support_user)
    StepRun.objects.filter(pk=run.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert incidents_tick()["stale_runs_failed"] == 1
    run.refresh_from_db()
    assert run.status == "failed" and "timed out" in run.log


def test_an_undecided_approval_expires_and_the_step_can_be_requested_again(
    open_incident, step_of, ops_user
):
    from incidents.models import Approval
    from incidents.services import step_run_request

    step = step_of(open_incident("credential_leak"), "invalidate_sessions")
    approval = step_run_request(step=step, actor=ops_user, params={})
    Approval.objects.filter(pk=approval.pk).update(expires_at=timezone.now())
    assert incidents_tick()["approvals_expired"] == 1
    approval.refresh_from_db()
    step.refresh_from_db()
    assert approval.status == "expired" and step.status == "pending"
    again = step_run_request(step=step, actor=ops_user, params={})
    assert again.pk != approval.pk and again.status == "pending"


def test_a_gate_cannot_be_ticked_by_hand_only_skipped(open_incident, step_of, support_user):
    from django.core.exceptions import ValidationError

    from incidents.services import incident_step_complete

    gate = step_of(open_incident("station_redeem"), "note")
    with pytest.raises(ValidationError):
        incident_step_complete(step=gate, actor=support_user, note="trust me")
    skipped = incident_step_complete(
        step=gate, actor=support_user, note="no note needed", skip=True
    )
    assert skipped.status == "skipped"
