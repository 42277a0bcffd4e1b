import time

import pytest

from campaigns.models import Campaign, Target
from campaigns.services import campaign_stop
from tests.campaigns.conftest import dispatch_in_thread

pytestmark = pytest.mark.django_db(transaction=True)


def test_stop_mid_run_sends_nothing_more_after_the_in_flight_sends(
    sim, campaign_factory, dispatch, ops_user
):
    campaign = campaign_factory(200, throttle_per_minute=600)
    worker, results = dispatch_in_thread(dispatch, campaign.pk)
    deadline = time.monotonic() + 20
    while sim.sent_total() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)

    campaign_stop(campaign_id=campaign.pk, actor=ops_user)
    at_stop = len(sim.calls("whatsapp", "POST"))
    worker.join(10)

    assert not worker.is_alive()
    assert results[-1].reason == "not_running"
    after_drain = len(sim.calls("whatsapp", "POST"))
    # At most the sends already in flight or due within one coordinator tick (0.2 s at 10/s).
    assert after_drain - at_stop <= 3
    time.sleep(1.0)
    assert len(sim.calls("whatsapp", "POST")) == after_drain
    assert Campaign.objects.get(pk=campaign.pk).state == "paused"
    assert Target.objects.filter(campaign=campaign, status="sent").count() == after_drain
    assert Target.objects.filter(campaign=campaign, status="pending").count() == 200 - after_drain
