"""The throttle, counted from the simulator's own request log: never above it."""

import math

import pytest

from campaigns.models import Target


def max_in_any_window(times: list[float], width: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("per_minute, targets", [(600, 30), (3000, 120)])
def test_sends_never_exceed_the_throttle_in_any_one_second_window(
    sim, campaign_factory, dispatch, per_minute, targets
):
    campaign = campaign_factory(targets, throttle_per_minute=per_minute)

    assert dispatch(campaign.pk)[-1].reason == "completed"

    times = [c["at"] for c in sim.calls("whatsapp", "POST")]
    assert len(times) == targets
    per_second = per_minute // 60
    # Send slots are 1/rate apart with 100 ms of catch-up slack, so a one-second window holds
    # at most rate + 1 + rate/10 of them; the log's times add thread wake-up jitter on a busy
    # machine (allowed: another 100 ms). Without the throttle all of them go within ~100 ms.
    slack = math.ceil(per_second * 0.1)
    assert max_in_any_window(times, 1.0) <= per_second + 1 + slack + slack
    assert Target.objects.filter(campaign=campaign, status="sent").count() == targets


def test_the_window_counter_itself_counts():
    assert max_in_any_window([0.0, 0.1, 0.2, 1.05, 1.1], 1.0) == 3
