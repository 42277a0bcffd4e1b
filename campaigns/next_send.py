"""When a running campaign may send next: quiet hours, a campaign-wide backoff, retries."""

import datetime as dt

from campaigns.models import Campaign, Target
from campaigns.quiet import quiet_window_end


def campaign_next_send_at(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """None = now (or nothing pending at all); else the later of quiet end/backoff/first due.

    A campaign waits, it never fails, for these: the dispatcher sleeps until the answer.
    """
    waits = []
    quiet_end = quiet_window_end(
        now=now,
        start=campaign.quiet_hours_start,
        end=campaign.quiet_hours_end,
        tz=campaign.time_zone,
    )
    if quiet_end:
        waits.append(quiet_end)
    if campaign.backoff_until and campaign.backoff_until > now:
        waits.append(campaign.backoff_until)
    if waits:
        return max(waits)
    pending = Target.objects.filter(campaign_id=campaign.pk, status=Target.Status.PENDING)
    if (
        pending.filter(next_attempt_at__isnull=True).exists()
        or pending.filter(next_attempt_at__lte=now).exists()
    ):
        return None
    return (
        pending.filter(next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )  # None only when nothing is pending (the caller completes the campaign)
