"""Gates measure what the runbook says, from when the step they verify has run: nothing
passes them before it (or at opening), "targets update" needs a stated amount of progress,
"EF returns 202" a real 202 from send-whatsapp; the page says waiting / due HH:MM."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, SendResult, Target
from incidents.gates import gate_evaluate
from incidents.services import Impacted, incident_open

pytestmark = pytest.mark.django_db


def _stalled_campaign(targets: int = 30) -> Campaign:
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    campaign = Campaign.objects.create(
        name="Stuck", template="promo_v1", state="running", started_at=long_ago
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{i:07d}") for i in range(targets)]
    )
    return campaign


def _sent(campaign: Campaign, n: int, *, is_test: bool = False) -> None:
    """What the dispatcher writes for n accepted sends (the tests with a real dispatcher
    are test_e2e_*.py)."""
    targets = Target.objects.filter(campaign=campaign, status="pending")[:n]
    SendResult.objects.bulk_create(
        SendResult(
            at=timezone.now(),
            campaign=campaign,
            target=t,
            phone=t.phone,
            outcome="sent",
            is_test=is_test,
        )
        for t in targets
    )


def _opened(runbook_key: str, user, campaign: Campaign | None = None):
    impacted = [Impacted("campaigns.campaign", campaign.pk, campaign.name)] if campaign else []
    incident, _ = incident_open(runbook_key=runbook_key, actor=user, impacted=impacted)
    return incident


def _page(client, incident) -> str:
    url = reverse("admin:incidents_incident_work", args=[incident.pk])
    return client.get(url).content.decode()


def test_targets_gate_starts_at_the_replay_and_needs_n_targets_sent(
    simulator, settings, ops_user, run_step, step_of, client_for
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    settings.INCIDENT_GATE_MIN_TARGETS_SENT = 10
    campaign = _stalled_campaign()
    incident = _opened("dispatcher_stall", ops_user, campaign)
    client = client_for(ops_user)
    _sent(campaign, 12)  # sends before the replay prove nothing about the replay
    gate = gate_evaluate(step=step_of(incident, "targets_advance"))
    assert gate.status == "pending" and gate.due_at is None
    assert gate.last_check_detail == "waiting for step 3.1 to run"
    page = _page(client, incident)
    assert 'data-gate-state="waiting"' in page and "waiting for step 3.1 to run" in page
    # What is automatic here, and what is the reader's (the runbook's own paragraph).
    assert "needs 10 targets sent since (or the campaign completing)" in page

    replay = run_step(incident, "replay", ops_user)
    assert replay.status == "succeeded"
    _sent(campaign, 1)  # one target changing is not progress
    gate = gate_evaluate(step=step_of(incident, "targets_advance"))
    assert gate.status == "pending" and "1/10 sent" in gate.last_check_detail
    # The deadline counts from the replay's finish, not from detection.
    assert gate.due_at == replay.finished_at + dt.timedelta(minutes=5)
    page = _page(client, incident)
    assert 'data-gate-state="due"' in page
    assert f"due {timezone.localtime(gate.due_at, dt.UTC):%H:%M} UTC" in page

    _sent(campaign, 8)
    assert gate_evaluate(step=step_of(incident, "targets_advance")).status == "pending"
    _sent(campaign, 1)
    gate = gate_evaluate(step=step_of(incident, "targets_advance"))
    assert gate.status == "done" and "10/10 sent" in gate.last_check_detail


def test_targets_gate_passes_when_a_small_campaign_completes_after_the_replay(
    simulator, settings, ops_user, run_step, step_of
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    campaign = _stalled_campaign(targets=3)
    incident = _opened("dispatcher_stall", ops_user, campaign)
    run_step(incident, "replay", ops_user)
    _sent(campaign, 3)
    assert gate_evaluate(step=step_of(incident, "targets_advance")).status == "pending"
    Campaign.objects.filter(pk=campaign.pk).update(state="completed", completed_at=timezone.now())
    gate = gate_evaluate(step=step_of(incident, "targets_advance"))
    assert gate.status == "done" and f"campaign {campaign.pk} completed" in gate.last_check_detail


def test_the_202_gate_never_passes_at_opening_on_a_get_probe_or_on_old_sends(
    simulator, settings, ops_user, run_step, step_of
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    campaign = _stalled_campaign(targets=5)
    _sent(campaign, 2)  # accepted before the incident's pause
    incident = _opened("whatsapp_send", ops_user)
    gate = gate_evaluate(step=step_of(incident, "ef_202"))  # the EF is healthy: still no
    assert gate.status == "pending" and gate.last_check_detail == "waiting for step 2.1 to run"

    run_step(incident, "pause_all", ops_user)
    gate = gate_evaluate(step=step_of(incident, "ef_202"))  # probe green, no test number
    assert gate.status == "pending" and "no 202 yet" in gate.last_check_detail
    assert not simulator.calls("whatsapp", "POST")

    settings.WHATSAPP_TEST_NUMBER = "+250788000111"
    simulator.set_fault("whatsapp", status=429, retry_after=30)
    gate = gate_evaluate(step=step_of(incident, "ef_202"))
    assert gate.status == "pending" and "failed: 429" in gate.last_check_detail
    gate = gate_evaluate(step=step_of(incident, "ef_202"))  # within the minute: no 2nd text
    assert len(simulator.calls("whatsapp", "POST")) == 1

    settings.WHATSAPP_TEST_SEND_EVERY_SECONDS = 0
    simulator.clear_faults()
    gate = gate_evaluate(step=step_of(incident, "ef_202"))
    assert gate.status == "done" and "test send to +250788000111 accepted (202)" in (
        gate.last_check_detail
    )
    [post] = [c for c in simulator.calls("whatsapp", "POST") if c["status"] == 202]
    assert post["body"]["to"] == "+250788000111"
    assert SendResult.objects.filter(is_test=True, phone="+250788000111", outcome="sent").exists()


def test_the_202_gate_passes_on_the_first_real_send_after_the_pause(
    simulator, settings, ops_user, run_step, step_of
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    campaign = _stalled_campaign(targets=5)
    incident = _opened("whatsapp_send", ops_user)
    run_step(incident, "pause_all", ops_user)
    _sent(campaign, 1, is_test=True)  # a campaign's test send to someone else is not it
    assert gate_evaluate(step=step_of(incident, "ef_202")).status == "pending"
    _sent(campaign, 1)
    gate = gate_evaluate(step=step_of(incident, "ef_202"))
    assert gate.status == "done" and "campaign send was accepted (202)" in gate.last_check_detail


def test_the_preview_gate_needs_a_probe_after_the_redeploy(
    simulator, settings, ops_user, step_of, client_for
):
    from incidents.services import incident_step_complete
    from integrations.status import status_get

    settings.INTEGRATIONS_READ_TIMEOUT = 2
    status_get(force=True)  # green, before anything was redeployed
    incident = _opened("voucher_preview", ops_user)
    gate = gate_evaluate(step=step_of(incident, "preview_works"))
    assert gate.status == "pending" and gate.last_check_detail == "waiting for step 4.1 to run"
    incident_step_complete(step=step_of(incident, "redeploy"), actor=ops_user, note="redeployed")
    gate = gate_evaluate(step=step_of(incident, "preview_works"))
    assert gate.status == "done" and "voucher_png green" in gate.last_check_detail
