"""One owner per campaign (the lease), and batches that never overlap (SKIP LOCKED)."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import leases
from campaigns.dispatch import SliceRunner
from campaigns.models import DispatchLease, Target

THREADS = pytest.mark.django_db(transaction=True)


def run_in_threads(*runners):
    results = [None] * len(runners)

    def go(i, runner):
        try:
            results[i] = runner.run()
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i, r)) for i, r in enumerate(runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@THREADS
def test_two_slices_on_one_campaign_one_holds_the_lease_the_other_steps_back(sim, campaign_factory):
    campaign = campaign_factory(40, throttle_per_minute=1200)
    results = run_in_threads(SliceRunner(campaign.pk), SliceRunner(campaign.pk))

    assert sorted(r.reason for r in results) == ["completed", "lease_busy"]
    assert sim.sent_total() == 40 and sim.state()["duplicates"] == {}


@THREADS
def test_without_the_lease_concurrent_dispatchers_still_never_send_a_target_twice(
    sim, campaign_factory, monkeypatch
):
    # Belt and braces: even two holders at once (a lease taken over from a slow holder)
    # claim disjoint batches, because claims lock their rows with SKIP LOCKED.
    class NoLease(leases.RowLease):
        def acquire(self, *, now):
            return True

        def check(self, *, now):
            return True

    monkeypatch.setattr(leases, "lease_open", lambda campaign_id, **kw: NoLease(campaign_id, **kw))
    campaign = campaign_factory(120, throttle_per_minute=6000)
    sim.set_fault("whatsapp", latency_ms=10)

    results = run_in_threads(*(SliceRunner(campaign.pk) for _ in range(3)))

    assert "completed" in {r.reason for r in results}
    assert sum(r.attempted for r in results) == 120
    assert sim.sent_total() == 120
    assert sim.state()["duplicates"] == {}
    assert Target.objects.filter(campaign=campaign, status="sent").count() == 120


@pytest.mark.django_db
def test_an_expired_lease_is_taken_over_and_a_live_one_is_not(campaign_factory):
    campaign = campaign_factory(1)
    now = timezone.now()
    assert leases.lease_acquire(campaign_id=campaign.pk, holder="a", now=now, ttl=30)
    assert not leases.lease_acquire(campaign_id=campaign.pk, holder="b", now=now, ttl=30)
    assert leases.lease_acquire(campaign_id=campaign.pk, holder="a", now=now, ttl=30)  # renewal
    later = now + dt.timedelta(seconds=31)
    assert leases.lease_acquire(campaign_id=campaign.pk, holder="b", now=later, ttl=30)
    assert not leases.lease_renew(campaign_id=campaign.pk, holder="a", now=later, ttl=30)
    assert DispatchLease.objects.get(campaign=campaign).holder == "b"
