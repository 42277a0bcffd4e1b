"""The services the incident runbooks call (helper E's engine): pause all, reschedule,
replay, misconfiguration report, failure rate. Each audited, each idempotent."""

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from campaigns import services
from campaigns.errors import IntegrationUnhealthy, InvalidState
from campaigns.models import Campaign, DispatchLease, SendResult
from campaigns.selectors import campaigns_misconfigured, send_failure_rate
from integrations.models import ProbeResult

pytestmark = pytest.mark.django_db


def probe(state):
    ProbeResult.objects.create(
        key="whatsapp", label="WhatsApp", state=state, reason="ok", checked_at=timezone.now()
    )


def test_pause_running_stops_every_running_campaign_once(campaign_factory, ops_user):
    a, b = campaign_factory(1, name="a"), campaign_factory(1, name="b")
    draft = campaign_factory(1, name="d", state="draft")

    assert sorted(services.campaigns_pause_running(actor=ops_user)) == sorted([a.pk, b.pk])
    assert services.campaigns_pause_running(actor=ops_user) == []
    assert set(Campaign.objects.values_list("state", flat=True)) == {"paused", "draft"}
    assert Campaign.objects.get(pk=draft.pk).state == "draft"
    assert AuditEntry.objects.filter(action="campaign.stop").count() == 2


def test_reschedule_after_holds_the_campaign_back(campaign_factory, ops_user):
    campaign = campaign_factory(1)
    services.campaign_reschedule_after(campaign_id=campaign.pk, seconds=120, actor=ops_user)
    campaign.refresh_from_db()
    assert campaign.backoff_until > timezone.now() + dt.timedelta(seconds=110)
    assert campaign.next_send_at == campaign.backoff_until
    entry = AuditEntry.objects.get(action="campaign.reschedule")
    assert entry.data["seconds"] == 120


def test_replay_needs_a_healthy_ef_and_frees_the_lease(campaign_factory, ops_user):
    campaign = campaign_factory(1)
    DispatchLease.objects.create(
        campaign=campaign,
        holder="stuck",
        acquired_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    probe("red")
    with pytest.raises(IntegrationUnhealthy):
        services.campaign_replay(campaign_id=campaign.pk, actor=ops_user)
    assert DispatchLease.objects.get(campaign=campaign).holder == "stuck"

    probe("green")
    replayed = services.campaign_replay(campaign_id=campaign.pk, actor=ops_user)

    assert replayed.state == "running"
    assert DispatchLease.objects.get(campaign=campaign).holder == ""
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["campaign.stop", "campaign.replay", "campaign.start"]


def test_replay_of_a_completed_campaign_is_invalid_state(campaign_factory, ops_user):
    probe("green")
    campaign = campaign_factory(0, state="completed")
    with pytest.raises(InvalidState):
        services.campaign_replay(campaign_id=campaign.pk, actor=ops_user)


def test_misconfiguration_report_names_the_field_and_the_problem(campaign_factory):
    campaign_factory(0, name="fast", throttle_per_minute=10_000)
    ok = {"throttle_per_minute": 600}
    campaign_factory(
        0, name="swapped", quiet_hours_start=dt.time(7), quiet_hours_end=dt.time(5), **ok
    )
    campaign_factory(0, name="zero", quiet_hours_start=dt.time(7), quiet_hours_end=dt.time(7), **ok)
    campaign_factory(
        0, name="fine", quiet_hours_start=dt.time(21), quiet_hours_end=dt.time(7), **ok
    )
    campaign_factory(0, name="done", state="completed", throttle_per_minute=10_000)

    report = {(r["name"], r["field"]) for r in campaigns_misconfigured()}

    assert report == {
        ("fast", "throttle_per_minute"),
        ("swapped", "quiet_hours"),
        ("zero", "quiet_hours"),
    }


def test_failure_rate_counts_recent_non_sends_only(campaign_factory):
    campaign = campaign_factory(0)
    now = timezone.now()

    def result(outcome, minutes_ago):
        SendResult.objects.create(
            at=now - dt.timedelta(minutes=minutes_ago),
            campaign=campaign,
            phone="+250780000001",
            outcome=outcome,
        )

    assert send_failure_rate(minutes=5) == 0.0
    for outcome in ["sent", "sent", "failed", "retry"]:
        result(outcome, 1)
    result("failed", 10)

    assert send_failure_rate(minutes=5) == 0.5
    assert send_failure_rate(minutes=15) == 3 / 5
