"""Campaign fixtures: the project's simulator over real sockets, campaigns with targets,
and a helper that runs dispatcher slices in this process until the campaign settles."""

import datetime as dt

import pytest


@pytest.fixture
def sim(settings):
    """integrations' simulator on an ephemeral loopback port, the EF clients pointed at it."""
    from devtools.simulator.server import settings_for, start_simulator

    simulator = start_simulator(port=0)
    for name, value in settings_for(simulator.url).items():
        setattr(settings, name, value)
    # Fast retries and backoffs so rule tests run in seconds.
    settings.CAMPAIGN_RETRY_BASE_SECONDS = 0.05
    settings.CAMPAIGN_BACKOFF_BASE_SECONDS = 0.2
    settings.CAMPAIGN_LEASE_SECONDS = 5
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    yield simulator
    simulator.stop()


def phone(i: int) -> str:
    return f"+25078{i:07d}"


@pytest.fixture
def campaign_factory():
    from campaigns.models import Campaign, Target

    def make(targets: int = 10, *, state: str = "running", **fields):
        fields.setdefault("throttle_per_minute", 6000)
        campaign = Campaign.objects.create(
            name=fields.pop("name", "Promo"),
            template="promo_v1",
            state=state,
            started_at=dt.datetime.now(dt.UTC) if state == "running" else None,
            **fields,
        )
        Target.objects.bulk_create(
            [
                Target(campaign=campaign, phone=phone(i), variables={"n": str(i)})
                for i in range(targets)
            ]
        )
        return campaign

    return make


@pytest.fixture
def dispatch():
    """`dispatch(campaign_id, clock=…)` runs slices here until done, stopped or waiting long."""
    from campaigns.dispatch import SliceRunner

    def run(campaign_id: int, *, clock=None, slice_seconds: float = 10, max_slices: int = 20):
        results = []
        for _ in range(max_slices):
            kwargs = {"slice_seconds": slice_seconds}
            if clock is not None:
                kwargs["clock"] = clock
            result = SliceRunner(campaign_id, **kwargs).run()
            results.append(result)
            if not result.continue_now:
                break
        return results

    return run


def key(campaign, target) -> str:
    return f"campaign-{campaign.pk}-target-{target.pk}"


def dispatch_in_thread(dispatch, campaign_id: int):
    """Start `dispatch(campaign_id)` in a thread with its own database connection;
    → (the started thread, the list its slice results are added to)."""
    import threading

    from django.db import connection

    results = []

    def run():
        try:
            results.extend(dispatch(campaign_id))
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    return worker, results
