"""Quiet hours in the campaign's time zone, with a time-travelled clock (nobody sleeps 8 h)."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from campaigns.models import Target
from campaigns.quiet import quiet_next_start, quiet_window_end
from campaigns.selectors import campaign_status

DISPATCH = pytest.mark.django_db(transaction=True)
KIGALI = zoneinfo.ZoneInfo("Africa/Kigali")  # UTC+2


def clock_at(local: dt.datetime):
    """A clock reading `local` now and running at real speed from there."""
    offset = local - timezone.now()
    return lambda: timezone.now() + offset


def quiet_campaign(campaign_factory, n=5, **kw):
    return campaign_factory(
        n,
        quiet_hours_start=dt.time(21, 0),
        quiet_hours_end=dt.time(7, 0),
        time_zone="Africa/Kigali",
        **kw,
    )


@DISPATCH
def test_inside_quiet_hours_nothing_is_sent_and_the_campaign_waits(sim, campaign_factory, dispatch):
    campaign = quiet_campaign(campaign_factory)
    results = dispatch(campaign.pk, clock=clock_at(dt.datetime(2026, 12, 1, 22, 0, tzinfo=KIGALI)))

    assert results[-1].reason == "waiting"
    assert results[-1].wake_at == dt.datetime(2026, 12, 2, 7, 0, tzinfo=KIGALI)
    assert sim.calls("whatsapp", "POST") == []
    assert Target.objects.filter(campaign=campaign, status="pending").count() == 5
    status = campaign_status(campaign_id=campaign.pk)
    assert status["state"] == "running"  # waiting, not failed
    assert status["next_send_at"] == "2026-12-02T05:00:00Z"
    assert status["quiet_hours"] == {"start": "21:00", "end": "07:00", "tz": "Africa/Kigali"}

    # The next morning the same campaign goes out.
    results = dispatch(
        campaign.pk, clock=clock_at(dt.datetime(2026, 12, 2, 7, 0, 1, tzinfo=KIGALI))
    )
    assert results[-1].reason == "completed"
    assert Target.objects.filter(campaign=campaign, status="sent").count() == 5


@DISPATCH
def test_sending_stops_when_the_quiet_window_begins(sim, campaign_factory, dispatch):
    # 20 targets at 10/s from 20:59:59.0: about ten fit before 21:00, none after.
    campaign = quiet_campaign(campaign_factory, 20, throttle_per_minute=600)
    start = dt.datetime(2026, 12, 1, 20, 59, 59, tzinfo=KIGALI)
    offset = start - timezone.now()

    results = dispatch(campaign.pk, clock=lambda: timezone.now() + offset)

    assert results[-1].reason == "waiting"
    window_start = dt.datetime(2026, 12, 1, 21, 0, tzinfo=KIGALI).timestamp()
    posts = sim.calls("whatsapp", "POST")
    assert 0 < len(posts) < 20
    # A send's request time on the campaign's clock is never inside the window.
    assert all(c["at"] + offset.total_seconds() < window_start + 0.05 for c in posts)
    assert Target.objects.filter(campaign=campaign, status="pending").count() == 20 - len(posts)


@pytest.mark.parametrize(
    "local, expected_end",
    [
        (dt.datetime(2026, 12, 1, 21, 0), dt.datetime(2026, 12, 2, 7, 0)),
        (dt.datetime(2026, 12, 2, 6, 59), dt.datetime(2026, 12, 2, 7, 0)),
        (dt.datetime(2026, 12, 2, 7, 0), None),
        (dt.datetime(2026, 12, 1, 20, 59), None),
    ],
)
def test_quiet_window_spanning_midnight(local, expected_end):
    now = local.replace(tzinfo=KIGALI)
    end = quiet_window_end(now=now, start=dt.time(21), end=dt.time(7), tz="Africa/Kigali")
    assert end == (expected_end.replace(tzinfo=KIGALI) if expected_end else None)


def test_next_quiet_start_and_same_day_window():
    now = dt.datetime(2026, 12, 1, 13, 0, tzinfo=KIGALI)
    assert quiet_next_start(now=now, start=dt.time(12), end=dt.time(14), tz="Africa/Kigali") == (
        dt.datetime(2026, 12, 2, 12, 0, tzinfo=KIGALI)
    )
    assert quiet_window_end(now=now, start=dt.time(12), end=dt.time(14), tz="Africa/Kigali") == (
        dt.datetime(2026, 12, 1, 14, 0, tzinfo=KIGALI)
    )
    assert quiet_window_end(now=now, start=dt.time(12), end=dt.time(12), tz="UTC") is None
