"""The campaign_dispatcher probe: amber after 2 min without progress, red after 5 min or
without a fresh worker heartbeat; reported through the integrations status API."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import leases
from campaigns.health import dispatcher_health
from campaigns.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def ago(seconds):
    return timezone.now() - dt.timedelta(seconds=seconds)


def test_a_running_campaign_that_stops_advancing_goes_amber_then_red(campaign_factory):
    leases.heartbeat_write(now=timezone.now())
    campaign = campaign_factory(4)
    campaign.last_progress_at = ago(30)
    campaign.save()
    assert dispatcher_health()["state"] == "green"
    assert dispatcher_health()["queue_length"] == 4

    campaign.last_progress_at = ago(150)
    campaign.save()
    health = dispatcher_health()
    assert (health["state"], health["reason"]) == ("amber", "stalled")
    assert "has not advanced for" in health["detail"]

    campaign.last_progress_at = ago(320)
    campaign.save()
    assert dispatcher_health()["state"] == "red"


def test_no_fresh_worker_heartbeat_is_red(campaign_factory):
    WorkerHeartbeat.objects.create(worker="old-host:1", seen_at=ago(600))
    health = dispatcher_health()
    assert (health["state"], health["reason"]) == ("red", "stalled")
    assert "heartbeat" in health["detail"]


def test_a_campaign_waiting_on_purpose_is_not_stalled(campaign_factory):
    leases.heartbeat_write(now=timezone.now())
    campaign = campaign_factory(2)
    campaign.last_progress_at = ago(3600)  # quiet hours since last night
    campaign.next_send_at = timezone.now() + dt.timedelta(hours=2)
    campaign.save()
    assert dispatcher_health()["state"] == "green"


def test_paused_campaigns_never_count_as_stalled(campaign_factory):
    leases.heartbeat_write(now=timezone.now())
    campaign = campaign_factory(2, state="paused")
    campaign.last_progress_at = ago(3600)
    campaign.save()
    assert dispatcher_health() | {"detail": ""} == {
        "state": "green",
        "reason": "ok",
        "detail": "",
        "queue_length": 0,
        "running": 0,
    }


def test_the_status_api_reports_the_campaign_dispatcher_probe(
    client_for, support_user, campaign_factory
):
    leases.heartbeat_write(now=timezone.now())
    campaign = campaign_factory(3)
    campaign.last_progress_at = ago(200)
    campaign.save()

    body = client_for(support_user).get("/api/integrations/status?force=true").json()

    item = next(i for i in body["integrations"] if i["key"] == "campaign_dispatcher")
    assert (item["state"], item["reason"], item["queue_length"]) == ("amber", "stalled", 3)


@pytest.mark.django_db(transaction=True)  # the lease's own session must see the campaign
def test_the_watchdog_writes_a_heartbeat_and_rekicks_orphaned_campaigns(campaign_factory):
    from campaigns.models import DispatchLease
    from campaigns.services import campaigns_dispatch_watchdog
    from campaigns.session_lease import SessionLease

    orphan = campaign_factory(1, name="orphan")
    # Its row still says "held for 30 s", but no live session holds the lease: its
    # holder died, so the watchdog re-kicks it without waiting for the expiry.
    dead_holder = campaign_factory(1, name="dead holder")
    DispatchLease.objects.create(
        campaign=dead_holder,
        holder="h",
        expires_at=timezone.now() + dt.timedelta(seconds=30),
        acquired_at=timezone.now(),
    )
    held = campaign_factory(1, name="held")
    lease = SessionLease(held.pk, holder="live", ttl=30)
    waiting = campaign_factory(1, name="waiting")
    waiting.next_send_at = timezone.now() + dt.timedelta(hours=3)
    waiting.save()
    campaign_factory(1, name="paused", state="paused")

    try:
        assert lease.acquire(now=timezone.now())
        assert sorted(campaigns_dispatch_watchdog()) == [orphan.pk, dead_holder.pk]
    finally:
        lease.release(now=timezone.now(), held=True)
    assert WorkerHeartbeat.objects.filter(seen_at__gte=ago(5)).exists()


def test_the_watchdog_schedule_exists():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="campaigns.dispatch_watchdog")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "campaigns.tasks.dispatch_watchdog",
        Schedule.MINUTES,
        1,
    )
