"""A campaign's state in words, for the campaign page, the list and the front page.

"waiting for quiet hours until 07:00 Africa/Kigali", "backing off until 10:42 (provider
asked for 60 s)", "sending — 800 of 2,000 sent", "complete — 1,990 of 2,000 sent". Times
are in the campaign's own time zone (quiet hours are defined there); `until` carries the
exact moment for a tooltip in UTC. Reads only the campaign row and the target counts the
caller already has: no query.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from campaigns.models import Campaign
from campaigns.quiet import quiet_window_end

State = Campaign.State


@dataclass(frozen=True)
class StateWords:
    text: str
    tone: str  # a pill colour: green (sending), amber (waiting), grey (draft/paused), blue
    until: dt.datetime | None = None  # when the wait ends (UTC), for the exact time on hover

    def __str__(self) -> str:
        return self.text


def _n(value: int) -> str:
    return f"{value:,}"


def _local_hhmm(when: dt.datetime, tz: str) -> str:
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return when.astimezone(zone).strftime("%H:%M")


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.0f} min"


def campaign_state_words(
    campaign: Campaign, counts: dict[str, int], *, now: dt.datetime
) -> StateWords:
    """What the campaign is doing, in one line a person reads at a glance."""
    total = sum(counts.values())
    sent = counts.get("sent", 0)
    of = f"{_n(sent)} of {_n(total)} sent"
    problems = [
        f"{_n(counts[k])} {k}" for k in ("failed", "invalid") if counts.get(k)
    ]  # worth saying
    tail = f" ({', '.join(problems)})" if problems else ""
    if campaign.state == State.COMPLETED:
        return StateWords(f"complete — {of}{tail}", "blue")
    if campaign.state == State.DRAFT:
        targets = f"{_n(total)} target{'s' if total != 1 else ''}"
        return StateWords(f"draft — not started, {targets}", "grey")
    if campaign.state == State.PAUSED:
        return StateWords(f"paused — {of}{tail}", "grey")
    quiet_end = quiet_window_end(
        now=now,
        start=campaign.quiet_hours_start,
        end=campaign.quiet_hours_end,
        tz=campaign.time_zone,
    )
    if quiet_end is not None:
        at = _local_hhmm(quiet_end, campaign.time_zone)
        return StateWords(
            f"waiting for quiet hours until {at} {campaign.time_zone} — {of}", "amber", quiet_end
        )
    if campaign.backoff_until and campaign.backoff_until > now:
        at = _local_hhmm(campaign.backoff_until, campaign.time_zone)
        why = (
            f"provider asked for {_seconds(campaign.backoff_retry_after)}"
            if campaign.backoff_retry_after
            else "throttled: waiting longer after each refusal"
        )
        return StateWords(f"backing off until {at} ({why}) — {of}", "amber", campaign.backoff_until)
    if campaign.next_send_at and campaign.next_send_at > now:
        at = _local_hhmm(campaign.next_send_at, campaign.time_zone)
        return StateWords(
            f"waiting for retries due at {at} — {of}{tail}", "amber", campaign.next_send_at
        )
    return StateWords(f"sending — {of}{tail}", "green")


def campaign_next_send_words(campaign: Campaign, *, now: dt.datetime) -> str:
    """ "now", "at 07:00 Africa/Kigali", or "" when the campaign will not send (not running)."""
    if campaign.state != State.RUNNING:
        return ""
    if campaign.next_send_at and campaign.next_send_at > now:
        return f"at {_local_hhmm(campaign.next_send_at, campaign.time_zone)} {campaign.time_zone}"
    return "now"
