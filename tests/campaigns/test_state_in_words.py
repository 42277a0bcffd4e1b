"""A campaign's state in words on its page and in the list: quiet hours, a provider's
backoff, progress, completion — and a completed campaign never says "next send now"."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Target
from campaigns.wording import campaign_next_send_words, campaign_state_words

pytestmark = pytest.mark.django_db

# 04:30 UTC is 06:30 in Kigali (UTC+2): inside 21:00–07:00 quiet hours there.
NIGHT = dt.datetime(2026, 12, 6, 4, 30, tzinfo=dt.UTC)
COUNTS = {"pending": 1200, "sent": 800, "failed": 0, "invalid": 0}


def campaign(**fields) -> Campaign:
    fields.setdefault("state", "running")
    return Campaign(name="Promo", template="promo_v1", **fields)


def test_quiet_hours_say_until_when_in_the_campaigns_zone():
    c = campaign(
        quiet_hours_start=dt.time(21), quiet_hours_end=dt.time(7), time_zone="Africa/Kigali"
    )
    words = campaign_state_words(c, COUNTS, now=NIGHT)
    assert str(words).startswith("waiting for quiet hours until 07:00 Africa/Kigali")
    assert words.until == dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)


def test_a_backoff_names_the_providers_retry_after():
    c = campaign(
        backoff_until=NIGHT + dt.timedelta(seconds=60), backoff_retry_after=60, time_zone="UTC"
    )
    assert str(campaign_state_words(c, COUNTS, now=NIGHT)).startswith(
        "backing off until 04:31 (provider asked for 60 s)"
    )
    c.backoff_retry_after = None
    assert "(throttled: waiting longer after each refusal)" in str(
        campaign_state_words(c, COUNTS, now=NIGHT)
    )


def test_sending_counts_with_thousands_separators():
    assert str(campaign_state_words(campaign(), COUNTS, now=NIGHT)) == "sending — 800 of 2,000 sent"
    failed = {**COUNTS, "failed": 3, "invalid": 2}
    assert str(campaign_state_words(campaign(state="paused"), failed, now=NIGHT)) == (
        "paused — 800 of 2,005 sent (3 failed, 2 invalid)"
    )


def test_completed_is_complete_and_has_no_next_send():
    c = campaign(state="completed", next_send_at=None)
    done = {"pending": 0, "sent": 1990, "failed": 3, "invalid": 7}
    assert str(campaign_state_words(c, done, now=NIGHT)) == (
        "complete — 1,990 of 2,000 sent (3 failed, 7 invalid)"
    )
    assert campaign_next_send_words(c, now=NIGHT) == ""
    assert campaign_next_send_words(campaign(), now=NIGHT) == "now"


def test_the_campaign_page_says_it_in_words(client_for, support_user, campaign_factory):
    running = campaign_factory(3, backoff_until=timezone.now() + dt.timedelta(minutes=1))
    running.backoff_retry_after = 60
    running.save()
    completed = campaign_factory(2, state="completed")
    Target.objects.filter(campaign=completed).update(status="sent")
    client = client_for(support_user)

    html = client.get(f"/admin/campaigns/campaign/{running.pk}/change/").content.decode()
    assert "backing off until" in html and "(provider asked for 60 s)" in html

    html = client.get(f"/admin/campaigns/campaign/{completed.pk}/change/").content.decode()
    assert "complete — 2 of 2 sent" in html
    assert "next send" not in html
