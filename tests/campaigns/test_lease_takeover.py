"""The PostgreSQL lease is a session lock: a standby takes over the moment the holder's
session ends, the row fences a holder that lost it, and `view()` tells nodes apart."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import leases
from campaigns.dispatch import SliceRunner
from campaigns.dispatch.coordinator import MAX_STANDBY_HOPS
from campaigns.models import Campaign, DispatchLease, Target
from campaigns.services import campaign_replay
from campaigns.session_lease import LOCK_CLASS, SessionLease, lock_key
from tests.campaigns.conftest import key
from tests.campaigns.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(runner):
    box = {}

    def go():
        try:
            box["result"] = runner.run()
        finally:
            connection.close()

    thread = threading.Thread(target=go)
    thread.start()
    return thread, box


def queued_hops(campaign_id) -> list[int]:
    """The hop counts of the standby slices queued for this campaign that are hops."""
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    args = [SignedPackage.loads(q.payload)["args"] for q in OrmQ.objects.all()]
    return sorted(a[1] for a in args if a[0] == campaign_id and len(a) > 1)


def lease_pids(campaign_id, *, granted):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
            " AND classid = %s::oid AND objid = %s::oid AND granted = %s",
            [LOCK_CLASS, lock_key(campaign_id), granted],
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_standby_takes_over_when_the_holders_session_ends(sim, campaign_factory, settings):
    campaign = campaign_factory(300, throttle_per_minute=3000)
    sim.set_fault("whatsapp", latency_ms=10)
    settings.OPSPORTAL_NODE = "node-a"
    holder = SliceRunner(campaign.pk, slice_seconds=30)
    first, first_box = in_thread(holder)
    assert wait_for(lambda: sim.sent_total() >= 20, timeout=20)
    settings.OPSPORTAL_NODE = "node-b"  # the standby's host (its lease connection says so)
    second, second_box = in_thread(SliceRunner(campaign.pk, slice_seconds=30))
    assert wait_for(lambda: lease_pids(campaign.pk, granted=False), timeout=10)
    sent_before = sim.sent_total()

    # The holder's session ends (a dead host, a dropped connection): its lock goes with it.
    with connection.cursor() as cursor:
        for pid in lease_pids(campaign.pk, granted=True):
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    first.join(30)
    second.join(60)

    assert first_box["result"].reason == "lease_lost"  # fenced: its check failed
    assert second_box["result"].reason == "completed"
    assert second_box["result"].sent > 0 and sent_before < 300
    targets = list(Target.objects.filter(campaign=campaign))
    assert {t.status for t in targets} == {"sent"}
    assert [sim.send_count(key(campaign, t)) for t in targets] == [1] * 300
    assert sim.state()["duplicates"] == {}  # the holder's lanes kept their row locks


def test_a_replay_clears_the_row_and_the_holder_stops_at_its_next_check(
    sim, campaign_factory, ops_user
):
    campaign = campaign_factory(400, throttle_per_minute=600)
    holder = SliceRunner(campaign.pk, slice_seconds=30)
    thread, box = in_thread(holder)
    assert wait_for(lambda: sim.sent_total() >= 2, timeout=20)

    campaign_replay(campaign_id=campaign.pk, actor=ops_user)
    thread.join(30)

    assert box["result"].reason in {"lease_lost", "not_running"}
    assert not lease_pids(campaign.pk, granted=True)  # released: a fresh slice may take it


def test_view_names_the_holder_node_and_the_waiting_standbys(campaign_factory, settings):
    campaign = campaign_factory(1)
    settings.OPSPORTAL_NODE = "node-a"
    holder = SessionLease(campaign.pk, holder=leases.new_holder(), ttl=5)
    observer = SessionLease(campaign.pk, holder="observer", ttl=5)
    took_over, done = threading.Event(), threading.Event()

    def standby():  # a lease is used by the thread that opened it
        lease = SessionLease(campaign.pk, holder="node-b/standby", ttl=5)
        try:
            assert not lease.acquire(now=timezone.now())
            if lease.wait(seconds=10, now=timezone.now()):
                took_over.set()
                done.wait(10)
        finally:
            lease.release(now=timezone.now(), held=took_over.is_set())

    try:
        assert holder.acquire(now=timezone.now())
        settings.OPSPORTAL_NODE = "node-b"  # the standby's connection names its node
        waiter = threading.Thread(target=standby)
        waiter.start()
        assert wait_for(lambda: observer.view().standby_nodes == ["node-b"], timeout=5)
        assert observer.view().holder_node == "node-a"
        assert DispatchLease.objects.get(campaign=campaign).holder.startswith("node-a/")

        holder.release(now=timezone.now(), held=True)
        assert took_over.wait(5)
        assert observer.view().holder_node == "node-b"
        assert DispatchLease.objects.get(campaign=campaign).holder == "node-b/standby"
        assert leases.campaigns_held(now=timezone.now()) == {campaign.pk}
    finally:
        done.set()
        waiter.join(10)
        observer.release(now=timezone.now(), held=False)
    assert wait_for(lambda: not leases.campaigns_held(now=timezone.now()), timeout=5)


def test_a_standby_on_the_holders_own_node_moves_on_and_then_gives_up(
    sim, campaign_factory, settings
):
    campaign = campaign_factory(200, throttle_per_minute=600)
    settings.OPSPORTAL_NODE = "node-a"
    thread, box = in_thread(SliceRunner(campaign.pk, slice_seconds=8))
    assert wait_for(lambda: lease_pids(campaign.pk, granted=True), timeout=10)
    moved = SliceRunner(campaign.pk, slice_seconds=8, hops=0).run()
    assert moved.reason == "lease_busy" and queued_hops(campaign.pk) == [1]  # for another node
    last = SliceRunner(campaign.pk, slice_seconds=8, hops=MAX_STANDBY_HOPS).run()
    assert last.reason == "lease_busy" and queued_hops(campaign.pk) == [1]  # no further hop
    assert not lease_pids(campaign.pk, granted=False)  # nobody waits beside the holder
    Campaign.objects.filter(pk=campaign.pk).update(state="paused")
    thread.join(30)
