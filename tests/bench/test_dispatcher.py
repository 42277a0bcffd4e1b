"""Dispatcher benchmark (`make bench`): 20,000 targets at 6,000/min, simulator latency 50 ms.

Prints achieved rate / configured rate, worker CPU seconds per message and duplicates,
then the same with two worker clusters (two nodes) and the one holding the campaign
SIGKILLed at 50 %: the other's standby takes over (campaigns/session_lease.py).
Goal: ≥ 0.98 of the throttle, ≤ 1 ms CPU per message, 0 double sends, takeover ≤ 2 s.
BENCH_DISPATCH_TARGETS overrides the target count (e.g. for a quick look).
"""

import itertools
import os
import time

import pytest
from django.db import close_old_connections

from campaigns.models import Campaign, Target
from campaigns.services import campaign_start
from tests.campaigns.conftest import key
from tests.campaigns.workers import Cluster, unique_cluster_name, wait_for
from tests.cluster.support import lease_nodes

TARGETS = int(os.environ.get("BENCH_DISPATCH_TARGETS", "20000"))
PER_MINUTE = 6000
LATENCY_MS = 50

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim():
    from devtools.simulator.server import start_simulator

    simulator = start_simulator(port=0)
    simulator.set_fault("whatsapp", latency_ms=LATENCY_MS)
    yield simulator
    simulator.stop()


@pytest.fixture
def cluster_name(monkeypatch):
    from django_q.conf import Conf

    name = unique_cluster_name()
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    return name


@pytest.fixture
def campaign(settings, sim):
    from devtools.simulator.server import settings_for

    for k, v in settings_for(sim.url).items():
        setattr(settings, k, v)
    c = Campaign.objects.create(name="bench", template="promo_v1", throttle_per_minute=PER_MINUTE)
    Target.objects.bulk_create(
        [
            Target(campaign=c, phone=f"+25078{i:07d}", variables={"n": str(i)})
            for i in range(TARGETS)
        ],
        batch_size=5000,
    )
    return c


def _state(campaign_id):
    close_old_connections()
    return Campaign.objects.get(pk=campaign_id).state


def _report(title, sim, campaign, cpu_seconds):
    log = sorted(e["at"] for e in sim.state()["send_log"])
    span = log[-1] - log[0]
    rate = (len(log) - 1) / span if span > 0 else 0.0
    duplicates = sim.state()["duplicates"]
    counts = [sim.send_count(key(campaign, t)) for t in Target.objects.filter(campaign=campaign)]
    lost = sum(1 for c in counts if c == 0)
    double = sum(1 for c in counts if c > 1)
    # The longest pause between two sends: after a SIGKILL, the time the standby took to
    # take over; the rate outside that pause is the dispatcher's.
    gap = max((b - a for a, b in itertools.pairwise(log)), default=0.0)
    sending = (len(log) - 2) / (span - gap) if span > gap else 0.0
    print(
        f"\n[{title}] {len(log)} sends in {span:.1f} s: {rate:.2f}/s of {PER_MINUTE / 60:.0f}/s "
        f"= {rate / (PER_MINUTE / 60):.3f} of the throttle; worker CPU {cpu_seconds:.1f} s = "
        f"{cpu_seconds / max(1, len(log)) * 1000:.3f} ms/message; double sends {double}; "
        f"lost {lost}; keys re-asked after a crash (EF answered from its record) "
        f"{sum(duplicates.values())}; longest pause {gap:.1f} s, rate outside it "
        f"{sending / (PER_MINUTE / 60):.3f} of the throttle"
    )
    return rate, lost, double


def _run(sim, campaign, cluster_name, ops_user, *, kill_at: float | None):
    # Project defaults (slice 60 s, lease 30 s, Q poll 0.1 s, timeout 120 s / retry 180 s).
    config = {
        "CAMPAIGN_LEASE_SECONDS": 30,
        "CAMPAIGN_SLICE_SECONDS": 60,
        "Q_POLL": 0.1,
        "Q_TIMEOUT": 120,
        "Q_RETRY": 180,
    }
    first = Cluster(sim_url=sim.url, cluster_name=cluster_name, OPSPORTAL_NODE="a", **config)
    second = Cluster(sim_url=sim.url, cluster_name=cluster_name, OPSPORTAL_NODE="b", **config)
    clusters = {"a": first.start()}
    if kill_at is not None:
        clusters["b"] = second.start()  # a second host: where the standby waits
    cpu = 0.0
    try:
        time.sleep(3)  # let the clusters boot so their start-up CPU is not counted per message
        base = {n: c.cpu_seconds() for n, c in clusters.items()}
        campaign_start(campaign_id=campaign.pk, actor=ops_user)
        if kill_at is not None:
            assert wait_for(lambda: sim.sent_total() >= TARGETS * kill_at, timeout=TARGETS)
            holder, standbys = lease_nodes(campaign.pk)
            print(f"\nkilling node {holder} (standbys waiting on {standbys})")
            cpu += clusters[holder].cpu_seconds() - base.pop(holder)
            clusters.pop(holder).kill()
        assert wait_for(
            lambda: _state(campaign.pk) == "completed", timeout=TARGETS / 20 + 60, every=0.5
        )
        cpu += sum(clusters[n].cpu_seconds() - b for n, b in base.items())
    finally:
        first.stop()
        second.stop()
    return cpu


def test_dispatch_throughput_cpu_and_duplicates(sim, campaign, cluster_name, ops_user):
    cpu = _run(sim, campaign, cluster_name, ops_user, kill_at=None)
    rate, lost, double = _report("steady", sim, campaign, cpu)
    assert lost == 0 and double == 0
    assert sum(sim.state()["duplicates"].values()) == 0


def test_dispatch_with_worker_sigkill_at_half(sim, campaign, cluster_name, ops_user):
    cpu = _run(sim, campaign, cluster_name, ops_user, kill_at=0.5)
    rate, lost, double = _report("SIGKILL at 50 %", sim, campaign, cpu)
    assert lost == 0 and double == 0
