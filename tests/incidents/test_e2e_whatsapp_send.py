"""WhatsApp Send Failures, end to end: pause, check settings, reschedule, export, escalation
timer, provider notice, EF 202 gate, resume, incident_resolution audit, PagerDuty resolve."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from campaigns.models import Campaign, Target
from incidents.detectors import detectors_run_all
from incidents.gates import gate_evaluate
from incidents.models import Incident
from incidents.services import incident_status_set
from incidents.timers import escalations_announce
from integrations.status import status_get
from tests.incidents.e2e_support import (
    detected_paged_acknowledged,
    resolved_with_postmortem,
    wait_for,
    worker_run,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def qcluster_env():
    return {"WHATSAPP_PROVIDER_EMAIL": "waba@provider.example", "EMAIL_URL": "consolemail://"}


@pytest.fixture
def running_campaign():
    campaign = Campaign.objects.create(
        name="Promo",
        template="promo_v1",
        state="running",
        started_at=timezone.now(),
        throttle_per_minute=6000,
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{i:07d}") for i in range(5)]
        + [
            Target(
                campaign=campaign,
                phone="+250780009999",
                status="invalid",
                last_error_code="invalid_number",
            )
        ]
    )
    return campaign


def test_whatsapp_runbook_end_to_end(
    simulator, settings, running_campaign, support_user, ops_user, run_step, step_of
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    settings.WHATSAPP_PROVIDER_EMAIL = "waba-support@provider.example"
    settings.WHATSAPP_TEST_NUMBER = "+250788000111"
    settings.WHATSAPP_TEST_SEND_EVERY_SECONDS = 0
    simulator.set_fault("whatsapp", status=500)
    status_get(force=True)
    detectors_run_all(only=("whatsapp_failures",))
    incident = Incident.objects.get(runbook_key="whatsapp_send")
    assert "send-whatsapp probe red" in step_of(incident, "detected").note

    # The 202 gate verifies the pause's aftermath: nothing before it counts.
    gate = gate_evaluate(step=step_of(incident, "ef_202"))
    assert gate.status == "pending" and gate.last_check_detail == "waiting for step 2.1 to run"

    # Immediate: stop every running campaign; check quiet hours and throttles.
    pause = run_step(incident, "pause_all", ops_user)
    running_campaign.refresh_from_db()
    assert pause.status == "succeeded" and running_campaign.state == "paused"
    assert incident.impacted.filter(object_id=str(running_campaign.pk)).exists()
    assert run_step(incident, "check_settings", support_user).status == "succeeded"

    # Mitigation: honour Retry-After; export failed targets (campaign from the incident).
    run_step(incident, "reschedule", ops_user, seconds=120)
    running_campaign.refresh_from_db()
    assert running_campaign.next_send_at > timezone.now() + dt.timedelta(seconds=100)
    export = run_step(incident, "export_failed", support_user)
    assert export.result["rows"] == 1 and "failed-targets.csv" in export.log

    # Escalation: due 15 minutes after detection; announced in Slack once, when due.
    assert escalations_announce() == 0
    Incident.objects.filter(pk=incident.pk).update(
        detected_at=timezone.now() - dt.timedelta(minutes=16)
    )
    step = step_of(incident, "notify_provider")
    step.due_at = timezone.now() - dt.timedelta(minutes=1)
    step.save()
    assert escalations_announce() == 1 and escalations_announce() == 0
    slack = [c["body"]["text"] for c in simulator.calls("slack") if "chat.postMessage" in c["path"]]
    assert any("Escalation due" in text and "Notify WABA provider" in text for text in slack)
    notice = run_step(incident, "notify_provider", ops_user)
    assert notice.status == "succeeded"
    assert mail.outbox[-1].to == ["waba-support@provider.example"]
    assert mail.outbox[-1].attachments[0][0] == f"campaign-{running_campaign.pk}-failed-targets.csv"

    # Resolution: resume is refused while the EF is red; the 202 gate opens on a real 202
    # from send-whatsapp (a test send to the test number), never on a green GET probe.
    refused = run_step(incident, "resume", ops_user)
    assert refused.status == "failed" and "not resumed" in refused.error
    gate = gate_evaluate(step=step_of(incident, "ef_202"))
    assert gate.status == "pending" and "failed: INTERNAL_SERVER_ERROR" in gate.last_check_detail
    simulator.clear_faults()
    status_get(force=True)
    gate = gate_evaluate(step=step_of(incident, "ef_202"))
    assert gate.status == "done" and "test send to +250788000111 accepted (202)" in (
        gate.last_check_detail
    )
    assert any(
        (c.get("body") or {}).get("to") == "+250788000111" and c["status"] == 202
        for c in simulator.calls("whatsapp")
    )
    resumed = run_step(incident, "resume", ops_user)
    running_campaign.refresh_from_db()
    assert resumed.status == "succeeded" and running_campaign.state == "running"

    summary = "EF 5xx for 20 min; campaigns paused, provider notified, resumed after 202."
    run_step(incident, "resolution_audit", ops_user, summary=summary)
    entry = AuditEntry.objects.get(action="incident_resolution")
    assert entry.incident_id == incident.pk and entry.data["summary"] == summary
    run_step(incident, "pagerduty_resolve", ops_user)
    # With the REST key: the incident is looked up by its key (this one was never paged).
    search = simulator.calls("pagerduty", "GET")[-1]["query"]
    assert search["incident_key"] == f"opsportal-incident-{incident.pk}"
    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    incident.refresh_from_db()
    assert f"campaigns.campaign {running_campaign.pk} Promo" in incident.postmortem_markdown


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_whatsapp_send_from_a_fault_with_a_worker(
    simulator, qcluster, client, webhook_secret, support_user, ops_user, settings
):
    """EF 5xx → detector → page + Slack → signed acknowledgement → pause, checks, reschedule,
    export, provider notice run by the qcluster → resume refused while red → the 202 gate
    only after the pause and on a real 202 (test send) → resume sends → resolve."""
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    settings.WHATSAPP_TEST_NUMBER = "+250788000111"
    settings.WHATSAPP_TEST_SEND_EVERY_SECONDS = 0
    campaign = Campaign.objects.create(
        name="Promo", template="promo_v1", state="running", throttle_per_minute=6000
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{i:07d}") for i in range(12)]
    )
    simulator.set_fault("whatsapp", status=500)
    status_get(force=True)
    incident = detected_paged_acknowledged(
        simulator, qcluster, client, detector="whatsapp_failures", runbook="whatsapp_send"
    )
    gate = gate_evaluate(step=incident.steps.get(key="ef_202"))
    assert gate.status == "pending" and gate.last_check_detail == "waiting for step 2.1 to run"

    assert worker_run(qcluster, incident, "pause_all", ops_user).status == "succeeded"
    campaign.refresh_from_db()
    assert campaign.state == "paused"
    assert worker_run(qcluster, incident, "check_settings", support_user).status == "succeeded"
    assert worker_run(qcluster, incident, "reschedule", ops_user, seconds=2).status == "succeeded"
    assert worker_run(qcluster, incident, "export_failed", support_user).status == "succeeded"
    notice = worker_run(qcluster, incident, "notify_provider", ops_user)
    assert notice.status == "succeeded" and notice.result["email"] == "waba@provider.example"

    refused = worker_run(qcluster, incident, "resume", ops_user)
    assert refused.status == "failed" and "not resumed" in refused.error
    gate = gate_evaluate(step=incident.steps.get(key="ef_202"))
    assert gate.status == "pending" and "test send to +250788000111" in gate.last_check_detail
    simulator.clear_faults()
    status_get(force=True)
    gate = gate_evaluate(step=incident.steps.get(key="ef_202"))
    assert gate.status == "done" and "accepted (202)" in gate.last_check_detail

    assert worker_run(qcluster, incident, "resume", ops_user).status == "succeeded"
    completed = lambda: Campaign.objects.get(pk=campaign.pk).state == "completed"  # noqa: E731
    assert wait_for(completed, timeout=90), qcluster.log_tail()
    audit = worker_run(qcluster, incident, "resolution_audit", ops_user, summary="EF 5xx fixed.")
    assert audit.status == "succeeded"
    assert AuditEntry.objects.filter(action="incident_resolution", incident_id=incident.pk).exists()
    assert worker_run(qcluster, incident, "pagerduty_resolve", ops_user).status == "succeeded"
    markdown = resolved_with_postmortem(simulator, qcluster, incident, ops_user)
    assert "Gate 5.1 passed" in markdown and "`campaigns_pause_running`" in markdown
