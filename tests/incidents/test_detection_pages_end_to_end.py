"""The detection half of #17, end to end for each runbook, on PostgreSQL with a real
qcluster and the simulator over real sockets: a fault is injected (or the data condition
made) → the detector opens the incident → the worker pages PagerDuty (Events v2) and posts
to Slack #ops at the simulator → a forged webhook changes nothing → a signed PagerDuty
acknowledgement sets MTTA. Then: resolving resolves the alert, the same cause within the
cool-down reopens (no new incident) and pages again, after it a new incident opens."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Target
from incidents.detectors import detectors_run_all
from incidents.models import Incident, IncidentPage
from incidents.services import incident_status_set
from integrations.status import status_get
from tests.incidents.e2e_support import (
    pd_event,
    pd_post,
    sim_pages,
    sim_pd_incident,
    sim_slack_posts,
    wait_for,
)
from vouchers.models import VoucherEvent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _preview_red(sim, **_):
    sim.set_fault("voucher_png", status=503)
    status_get(force=True)
    return "voucher_png_red"


def _whatsapp_red(sim, **_):
    sim.set_fault("whatsapp", status=500)
    status_get(force=True)
    return "whatsapp_failures"


def _dispatcher_stuck(sim, **_):
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    campaign = Campaign.objects.create(
        name="Stuck",
        template="promo_v1",
        state="running",
        started_at=long_ago,
        last_progress_at=long_ago,
        throttle_per_minute=6000,
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{i:07d}") for i in range(3)]
    )
    return "dispatcher_stalled"


def _double_redemption(sim, station, voucher, **_):
    for minutes in (3, 0):
        VoucherEvent.objects.create(
            voucher=voucher,
            kind="redeemed",
            station=station,
            at=timezone.now() - dt.timedelta(minutes=minutes),
        )
    return "double_redemption"


def _revoked_token_used(sim, user, client, **_):
    from django.urls import reverse

    from staff.services import api_token_create, api_token_revoke

    issued = api_token_create(user=user)
    api_token_revoke(token=issued.token, actor=user)
    client.get(reverse("staff-api:me"), headers={"authorization": f"Bearer {issued.plaintext}"})
    return "revoked_token_use"


FAULTS = {
    "voucher_preview": (_preview_red, "warning"),
    "whatsapp_send": (_whatsapp_red, "error"),
    "dispatcher_stall": (_dispatcher_stuck, "error"),
    "station_redeem": (_double_redemption, "error"),
    "credential_leak": (_revoked_token_used, "critical"),
}


def _pages_sent(incident, n):
    return IncidentPage.objects.filter(incident=incident, status="sent").count() >= n


@pytest.mark.parametrize("runbook", list(FAULTS))
def test_a_fault_is_detected_paged_and_acknowledged_through_pagerduty(
    runbook,
    simulator,
    qcluster,
    client,
    webhook_secret,
    station_with_token,
    voucher_factory,
    ops_user,
):
    inject, severity = FAULTS[runbook]
    station, _ = station_with_token
    detector = inject(
        simulator, station=station, voucher=voucher_factory(), user=ops_user, client=client
    )
    assert detectors_run_all(only=(detector,))[detector]["opened"] == 1
    incident = Incident.objects.get(runbook_key=runbook)

    assert wait_for(lambda: _pages_sent(incident, 2)), qcluster.log_tail()
    [trigger] = sim_pages(simulator, "trigger")
    assert trigger["dedup_key"] == incident.pagerduty_dedup_key
    assert trigger["payload"]["severity"] == severity
    [post] = sim_slack_posts(simulator)
    assert f"/admin/incidents/incident/{incident.pk}/work/" in post["text"]
    assert incident.steps.get(key="pagerduty_trigger").status == "done"

    acked_at = timezone.now()
    event = pd_event(
        "incident.acknowledged", dedup_key=incident.pagerduty_dedup_key, occurred_at=acked_at
    )
    assert pd_post(client, event, secrets=("forged-secret",)).status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None
    assert pd_post(client, event).status_code == 200
    assert pd_post(client, event).json()["status"] == "duplicate"
    incident.refresh_from_db()
    assert incident.acknowledged_at == acked_at and incident.acknowledged_via == "pagerduty"
    assert incident.acknowledged_at - incident.opened_at >= dt.timedelta(0)  # MTTA


def test_resolve_then_the_same_cause_within_the_cool_down_reopens_and_after_it_opens_anew(
    simulator, qcluster, station_with_token, voucher_factory, ops_user, settings
):
    settings.INCIDENT_DETECTOR_COOLDOWN_MINUTES = 30
    station, _ = station_with_token
    voucher = voucher_factory()
    _double_redemption(simulator, station, voucher)
    detectors_run_all(only=("double_redemption",))
    incident = Incident.objects.get()
    assert wait_for(lambda: _pages_sent(incident, 2)), qcluster.log_tail()

    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    key = incident.pagerduty_dedup_key  # resolved through REST (the REST key is set)
    resolved = wait_for(lambda: sim_pd_incident(simulator, key).get("status") == "resolved")
    assert resolved, qcluster.log_tail()
    detectors_run_all(only=("double_redemption",))
    assert Incident.objects.count() == 1 and Incident.objects.get().status == "resolved"

    VoucherEvent.objects.create(
        voucher=voucher, kind="redeemed", station=station, at=timezone.now()
    )
    assert detectors_run_all(only=("double_redemption",))["double_redemption"]["reopened"] == 1
    incident.refresh_from_db()
    assert (Incident.objects.count(), incident.status, incident.reopened_count) == (1, "open", 1)
    assert wait_for(lambda: len(sim_pages(simulator, "trigger")) == 2), qcluster.log_tail()

    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    Incident.objects.filter(pk=incident.pk).update(
        resolved_at=timezone.now() - dt.timedelta(hours=1)
    )
    VoucherEvent.objects.create(
        voucher=voucher, kind="redeemed", station=station, at=timezone.now()
    )
    assert detectors_run_all(only=("double_redemption",))["double_redemption"]["opened"] == 1
    assert Incident.objects.count() == 2
