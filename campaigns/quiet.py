"""Quiet hours, evaluated in the campaign's own time zone (ARCHITECTURE.md, data rules)."""

import datetime as dt
import zoneinfo


def quiet_window_end(
    *, now: dt.datetime, start: dt.time | None, end: dt.time | None, tz: str
) -> dt.datetime | None:
    """When the quiet window containing `now` ends (aware UTC), or None when `now` is outside.

    A window whose start is after its end spans midnight (21:00–07:00). start == end means
    no window: "quiet all day" is better said by not starting the campaign.
    """
    if start is None or end is None or start == end:
        return None
    zone = zoneinfo.ZoneInfo(tz)
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_date = local.date()
    else:
        inside = t >= start or t < end
        end_date = local.date() + dt.timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    # fold=0 and normalising through UTC keep DST gaps/overlaps from raising.
    local_end = dt.datetime.combine(end_date, end, tzinfo=zone)
    return local_end.astimezone(dt.UTC)


def quiet_next_start(
    *, now: dt.datetime, start: dt.time | None, end: dt.time | None, tz: str
) -> dt.datetime | None:
    """The next moment a quiet window begins after `now` (aware UTC), None without a window."""
    if start is None or end is None or start == end:
        return None
    zone = zoneinfo.ZoneInfo(tz)
    local = now.astimezone(zone)
    candidate = dt.datetime.combine(local.date(), start, tzinfo=zone)
    if candidate.astimezone(dt.UTC) <= now:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), start, tzinfo=zone)
    return candidate.astimezone(dt.UTC)
