"""Real qcluster processes: a SIGKILLed worker loses nothing and sends nothing twice; the
Redis broker runs a campaign to completion. Slow (processes), kept few and bounded."""

import pytest
from django.db import close_old_connections

from campaigns.models import Campaign, Target
from campaigns.services import (
    campaign_enqueue_slice,
    campaign_start,
    campaigns_dispatch_watchdog,
)
from tests.campaigns.conftest import key
from tests.campaigns.workers import Cluster, unique_cluster_name, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cluster_name(monkeypatch):
    """Our own queue name, so no other test run's cluster takes our tasks (and vice versa)."""
    from django_q.conf import Conf

    name = unique_cluster_name()
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    return name


def state_of(campaign_id):
    close_old_connections()
    return Campaign.objects.get(pk=campaign_id).state


def test_a_worker_killed_mid_campaign_is_replaced_and_every_target_is_sent_once(
    sim, campaign_factory, ops_user, cluster_name
):
    campaign = campaign_factory(150, state="draft", throttle_per_minute=1200)
    sim.set_fault("whatsapp", latency_ms=20)
    first = Cluster(sim_url=sim.url, cluster_name=cluster_name).start()
    second = Cluster(sim_url=sim.url, cluster_name=cluster_name)
    try:
        campaign_start(campaign_id=campaign.pk, actor=ops_user)
        assert wait_for(lambda: sim.sent_total() >= 40, timeout=60), "the first worker never sent"
        first.kill()
        at_kill = sim.sent_total()
        assert at_kill < 150

        second.start()
        # The watchdog schedule (every minute) re-kicks a campaign whose lease expired;
        # run its body now instead of waiting for the scheduler's next pass.
        assert wait_for(lambda: campaigns_dispatch_watchdog() == [campaign.pk], timeout=15)
        assert wait_for(lambda: state_of(campaign.pk) == "completed", timeout=60)
    finally:
        first.kill()
        second.stop()

    targets = list(Target.objects.filter(campaign=campaign))
    assert {t.status for t in targets} == {"sent"}
    counts = [sim.send_count(key(campaign, t)) for t in targets]
    assert counts == [1] * 150  # every target sent, none twice
    assert sim.sent_total() == 150
    # Re-asked keys are the sends in flight at the kill: the EF answered them from its
    # idempotency record without sending again.
    assert sum(sim.state()["duplicates"].values()) <= 20


def test_the_redis_broker_runs_a_campaign_to_completion(
    sim, campaign_factory, ops_user, cluster_name, monkeypatch
):
    import redis
    from django_q.conf import Conf

    url = "redis://127.0.0.1:6379/4"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", url)
    campaign = campaign_factory(60, state="draft", throttle_per_minute=1800)
    # Two clusters (two hosts) on one broker, and extra slices queued for the same campaign:
    # the lease and SKIP LOCKED claims still send each target once.
    clusters = [
        Cluster(sim_url=sim.url, cluster_name=cluster_name, broker_url=url).start()
        for _ in range(2)
    ]
    try:
        campaign_start(campaign_id=campaign.pk, actor=ops_user)
        for _ in range(3):
            campaign_enqueue_slice(campaign_id=campaign.pk)
        assert wait_for(lambda: state_of(campaign.pk) == "completed", timeout=60)
    finally:
        for cluster in clusters:
            cluster.stop()

    assert sim.sent_total() == 60
    assert sim.state()["duplicates"] == {}
    assert all(
        sim.send_count(key(campaign, t)) == 1 for t in Target.objects.filter(campaign=campaign)
    )
