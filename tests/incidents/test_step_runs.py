import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from incidents.models import StepRun
from incidents.services import step_rerun, step_run_request

pytestmark = pytest.mark.django_db


def test_support_runs_a_safe_step_with_log_audit_and_timeline(
    open_incident, step_of, support_user, voucher_factory, sync_tasks
):
    voucher = voucher_factory()
    incident = open_incident(impacted=[("vouchers.voucher", voucher.pk, voucher.code)])
    step = step_of(incident, "voucher_review")
    with sync_tasks():
        run = step_run_request(step=step, actor=support_user, params={})
    run.refresh_from_db()
    assert run.status == "succeeded", run.log
    assert f"{voucher.code}: status issued" in run.log
    assert run.started_at and run.finished_at and run.actor_name == "sam-support"
    step.refresh_from_db()
    assert step.status == "done"
    entry = AuditEntry.objects.get(action="incident.step_run")
    assert entry.incident_id == incident.pk and entry.actor == support_user
    assert entry.data["outcome"] == "succeeded" and entry.data["action_key"] == "vouchers_review"
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert "run_queued" in kinds and "run_succeeded" in kinds


def test_support_may_not_run_an_operational_step(open_incident, step_of, support_user):
    step = step_of(open_incident("whatsapp_send"), "resolution_audit")
    with pytest.raises(PermissionDenied):
        step_run_request(step=step, actor=support_user, params={"summary": "all good"})
    assert not StepRun.objects.exists()


def test_unknown_and_missing_parameters_are_refused(open_incident, step_of, support_user):
    step = step_of(open_incident(), "voucher_review")
    with pytest.raises(ValidationError):
        step_run_request(step=step, actor=support_user, params={"rm": "-rf"})


def test_a_failing_action_leaves_a_failed_step_with_its_log_and_rerun_works(
    open_incident, step_of, support_user, voucher_factory, sync_tasks
):
    from incidents.services import incident_impacted_add
    from incidents.services.incidents import Impacted

    incident = open_incident()  # no vouchers linked: the review has nothing to review
    step = step_of(incident, "voucher_review")
    with sync_tasks():
        failed = step_run_request(step=step, actor=support_user, params={})
    failed.refresh_from_db()
    step.refresh_from_db()
    assert failed.status == "failed" and step.status == "failed"
    assert "No vouchers given" in failed.log and "No vouchers given" in failed.error
    voucher = voucher_factory()
    incident_impacted_add(incident=incident, impacted=[Impacted("vouchers.voucher", voucher.pk)])
    with sync_tasks():
        again = step_rerun(run=failed, actor=support_user)
    again.refresh_from_db()
    step.refresh_from_db()
    assert again.status == "succeeded" and again.params == failed.params
    assert again.rerun_of_id == failed.pk and step.status == "done"


def test_a_redelivered_task_does_not_run_twice(
    open_incident, step_of, support_user, voucher_factory, sync_tasks
):
    from incidents.tasks import step_run_execute

    voucher = voucher_factory()
    incident = open_incident(impacted=[("vouchers.voucher", voucher.pk, voucher.code)])
    with sync_tasks():
        run = step_run_request(step=step_of(incident, "voucher_review"), actor=support_user)
    assert step_run_execute(run.pk) == "succeeded"
    assert AuditEntry.objects.filter(action="incident.step_run").count() == 1


def test_a_secret_in_a_parameter_reaches_no_run_log_audit_timeline_or_slack(
    simulator, open_incident, step_of, ops_user, run_step
):
    token = "xoxb-" + "1234567890-abcdefghij"
    incident = open_incident("voucher_preview")
    run = run_step(incident, "tell_support", ops_user, text=f"use {token} for the bot")
    assert run.status == "succeeded"
    assert token not in str(run.params) and token not in run.log
    assert not AuditEntry.objects.filter(data__icontains=token).exists()
    assert token not in " ".join(incident.timeline.values_list("message", flat=True))
    assert all(token not in str(c["body"]) for c in simulator.calls("slack"))
