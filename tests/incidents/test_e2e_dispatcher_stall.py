"""Campaign Dispatcher Stalls, end to end: status, pause, replay refused while the EF is red
(kept paused, engineering notified), replay once healthy, targets-advance gate, audit."""

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from campaigns.dispatch import SliceRunner
from campaigns.models import Campaign, SendResult, Target
from incidents.detectors import detectors_run_all
from incidents.gates import gate_evaluate
from incidents.models import Incident
from incidents.services import incident_status_set
from integrations.status import status_get
from tests.incidents.e2e_support import (
    detected_paged_acknowledged,
    resolved_with_postmortem,
    wait_for,
    worker_run,
)

# The dispatcher sends from worker threads with their own connections: real commits.
pytestmark = pytest.mark.django_db(transaction=True)


def _stuck_campaign(*, targets: int, throttle_per_minute: int) -> Campaign:
    """Running, no progress for 10 minutes, nobody dispatching it."""
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    campaign = Campaign.objects.create(
        name="Stuck",
        template="promo_v1",
        state="running",
        started_at=long_ago,
        last_progress_at=long_ago,
        throttle_per_minute=throttle_per_minute,
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{i:07d}") for i in range(targets)]
    )
    return campaign


def test_dispatcher_stall_runbook_end_to_end(
    simulator, settings, support_user, ops_user, run_step, step_of
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    settings.CAMPAIGN_RETRY_BASE_SECONDS = 0.05
    settings.CAMPAIGN_LEASE_SECONDS = 5
    campaign = _stuck_campaign(targets=4, throttle_per_minute=6000)

    detectors_run_all(only=("dispatcher_stalled",))
    incident = Incident.objects.get(runbook_key="dispatcher_stall")
    assert incident.dedup_key == f"campaign:{campaign.pk}"
    assert incident.impacted.get().object_id == str(campaign.pk)

    status = run_step(incident, "status", support_user)  # campaign id from the incident
    assert "queue length 4" in status.log
    run_step(incident, "pause", ops_user)
    campaign.refresh_from_db()
    assert campaign.state == "paused"

    # EF unreachable: the replay keeps the campaign paused and tells engineering.
    simulator.set_fault("whatsapp", status=503)
    status_get(force=True)
    refused = run_step(incident, "replay", ops_user)
    campaign.refresh_from_db()
    assert refused.status == "failed" and campaign.state == "paused"
    assert "engineering notified" in refused.error
    assert any(
        c["body"]["channel"] == "#engineering"
        for c in simulator.calls("slack")
        if "chat.postMessage" in c["path"]
    )

    simulator.clear_faults()
    status_get(force=True)
    replay = run_step(incident, "replay", ops_user)
    campaign.refresh_from_db()
    assert replay.status == "succeeded" and campaign.state == "running"

    gate = step_of(incident, "targets_advance")
    assert gate_evaluate(step=gate).status == "pending"
    SliceRunner(campaign.pk, slice_seconds=5).run()
    assert Target.objects.filter(campaign=campaign, status="sent").exists()
    assert gate_evaluate(step=gate).status == "done"

    run_step(incident, "record_actions", ops_user, summary="Worker died; replayed after EF back.")
    assert AuditEntry.objects.filter(action="incident_resolution", incident_id=incident.pk).exists()
    assert AuditEntry.objects.filter(action="campaign.replay").exists()
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


@pytest.mark.slow
def test_dispatcher_stall_from_a_stall_with_a_worker(
    simulator, qcluster, client, webhook_secret, support_user, ops_user, settings
):
    """A running campaign nobody dispatches → detector → page + Slack → signed
    acknowledgement → status, pause, replay refused while the EF is down, replay by the
    qcluster whose dispatcher then sends → the gate from the replay's finish, on at least
    INCIDENT_GATE_MIN_TARGETS_SENT sends (or completion) → resolve."""
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    settings.INCIDENT_GATE_MIN_TARGETS_SENT = 10
    campaign = _stuck_campaign(targets=25, throttle_per_minute=600)
    incident = detected_paged_acknowledged(
        simulator, qcluster, client, detector="dispatcher_stalled", runbook="dispatcher_stall"
    )
    assert "queue length 25" in worker_run(qcluster, incident, "status", support_user).log
    assert worker_run(qcluster, incident, "pause", ops_user).status == "succeeded"

    simulator.set_fault("whatsapp", status=503)
    status_get(force=True)
    refused = worker_run(qcluster, incident, "replay", ops_user)
    assert refused.status == "failed" and "engineering notified" in refused.error
    gate = gate_evaluate(step=incident.steps.get(key="targets_advance"))
    assert gate.status == "pending" and gate.last_check_detail == "waiting for step 3.1 to run"

    simulator.clear_faults()
    status_get(force=True)
    replay = worker_run(qcluster, incident, "replay", ops_user)
    assert replay.status == "succeeded"
    gate_step = incident.steps.get(key="targets_advance")
    assert wait_for(lambda: gate_evaluate(step=gate_step).status == "done", timeout=90), (
        qcluster.log_tail()
    )
    gate_step.refresh_from_db()
    assert gate_step.due_at == replay.finished_at + dt.timedelta(minutes=5)
    sent = SendResult.objects.filter(campaign=campaign, outcome="sent", at__gte=replay.finished_at)
    assert sent.count() >= 10

    record = worker_run(qcluster, incident, "record_actions", ops_user, summary="Replayed.")
    assert record.status == "succeeded"
    assert worker_run(qcluster, incident, "pagerduty_resolve", ops_user).status == "succeeded"
    markdown = resolved_with_postmortem(simulator, qcluster, incident, ops_user)
    assert "Gate 4.1 passed" in markdown and "`dispatcher_replay`" in markdown
