"""How every page says a time, a duration, a latency and an object: one place, so all pages
agree (`{% load portal %}`).

- `{{ dt|when }}`: relative + clock time, the exact UTC on hover (`<time title=…>`); the
  page's script (`opsportal/portal.js`) turns the clock time into the reader's local time
  and keeps "3 min ago" fresh. Without JavaScript it reads "3 min ago · 05:00 UTC".
- `{{ dt|clock }}`: the clock time to the second ("05:01:02 UTC"), exact UTC on hover.
- `{{ delta|duration }}`: "57 s", "4 min 10 s", "2 h 5 min", "3 d 4 h" — never microseconds.
- `{{ value|ms }}`: a latency rounded to a whole millisecond ("8 ms"), seconds past 10 s.
- `{{ obj|objlink }}`: the object by its name, linked to its admin page; `{% objref type id
  label %}` does the same for a stored reference (an audit entry's target).
- `{{ state|tone }}`: the pill colour of a state, severity or step state, for
  `<span class="pill pill-{{ x|tone }}">` (opsportal/portal.css, both themes).
"""

import datetime as dt

from django import template
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


def _aware(value) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)
    return None


def _seconds(value) -> float | None:
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, int | float):
        return float(value)
    return None


def duration_text(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 1:
        return "under 1 s" if seconds else "0 s"
    s = round(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    for big, big_unit, small, small_unit in (
        (days, "d", hours, "h"),
        (hours, "h", minutes, "min"),
        (minutes, "min", secs, "s"),
    ):
        if big:
            return f"{big} {big_unit} {small} {small_unit}" if small else f"{big} {big_unit}"
    return f"{secs} s"


def relative_text(when: dt.datetime, now: dt.datetime) -> str:
    delta = (when - now).total_seconds()
    if abs(delta) < 45:
        return "just now"
    words = duration_text(delta).split(" ")
    short = " ".join(words[:2])  # "3 min", "2 h": the larger unit is enough at a glance
    return f"in {short}" if delta > 0 else f"{short} ago"


def clock_text(when: dt.datetime, now: dt.datetime) -> str:
    utc, today = when.astimezone(dt.UTC), now.astimezone(dt.UTC).date()
    if utc.date() == today:
        return utc.strftime("%H:%M UTC")
    return utc.strftime("%-d %b %H:%M UTC")


def _time_tag(moment: dt.datetime, css: str, inner):
    """<time> with the exact UTC in `datetime` and on hover; portal.js localises its clock."""
    exact = moment.astimezone(dt.UTC)
    return format_html(
        '<time class="{}" datetime="{}" title="{}">{}</time>',
        css,
        exact.isoformat().replace("+00:00", "Z"),
        exact.strftime("%Y-%m-%d %H:%M:%S UTC"),
        inner,
    )


@register.filter(is_safe=True)
def when(value, now=None):
    """A moment as "3 min ago · 05:00 UTC" (local time in the browser), exact UTC on hover."""
    moment = _aware(value)
    if moment is None:
        return ""
    now = _aware(now) or timezone.now()
    inner = format_html(
        '<span class="when-rel">{}</span> · <span class="when-clock">{}</span>',
        relative_text(moment, now),
        clock_text(moment, now),
    )
    return _time_tag(moment, "when", inner)


@register.filter(is_safe=True)
def clock(value):
    """A moment to the second, "05:01:02 UTC" (the reader's local time in the browser), the
    exact UTC date on hover: for saga steps and sign-outs, where the second matters."""
    moment = _aware(value)
    if moment is None:
        return ""
    inner = format_html(
        '<span class="when-clock">{}</span>', moment.astimezone(dt.UTC).strftime("%H:%M:%S UTC")
    )
    return _time_tag(moment, "when when-exact", inner)


@register.filter
def elapsed(value, now=None):
    """How long since a moment, as `duration` says it: "running for 12 s"."""
    moment = _aware(value)
    if moment is None:
        return ""
    return duration_text(((_aware(now) or timezone.now()) - moment).total_seconds())


@register.filter
def words(value) -> str:
    """A state's code as words: "rolled_back" → "rolled back"."""
    return str(value or "").replace("_", " ")


@register.filter
def duration(value):
    """A timedelta (or seconds) without microseconds: "57 s", "4 min 10 s", "2 h 5 min"."""
    seconds = _seconds(value)
    return "" if seconds is None else duration_text(seconds)


@register.filter
def ms(value):
    """A latency in milliseconds, rounded: 7.668 → "8 ms"; 12 345 → "12 s"."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if number >= 10_000:
        return f"{number / 1000:.0f} s"
    return f"{number:,.0f} ms"


def admin_url(app_label: str, model_name: str, pk) -> str:
    try:
        return reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


@register.filter(is_safe=True)
def objlink(obj):
    """The object by its name, linked to its admin page (plain text when it has none)."""
    if not isinstance(obj, models.Model):
        return "" if obj is None else str(obj)
    url = admin_url(obj._meta.app_label, obj._meta.model_name, obj.pk)
    return format_html('<a href="{}">{}</a>', url, obj) if url else str(obj)


@register.simple_tag
def objref(target_type: str, target_id, label: str = ""):
    """A stored reference ("campaigns.campaign", "7", "Weekend promo") as a named link."""
    app_label, _, model_name = (target_type or "").partition(".")
    text = label or f"{model_name.replace('_', ' ') or 'object'} #{target_id}"
    url = admin_url(app_label, model_name, target_id) if model_name and target_id else ""
    return format_html('<a href="{}">{}</a>', url, text) if url else text


TONES = {
    "green": ("green", "ok", "succeeded", "done", "approved", "sent", "sending", "issued"),
    "amber": (
        "amber",
        "queued",
        "running",
        "waiting",
        "awaiting_approval",
        "pending_approval",
        "rescheduled",
        "retry",
        "paused",
        "mitigated",
        "sev2",
        "slow",
    ),
    "red": (
        "red",
        "failed",
        "denied",
        "cancelled",
        "overdue",
        "expired",
        "invalid",
        "sev1",
        "open",
        "rolled_back",
        "outcome_unknown",
        "stalled",
        "void",
    ),
    "blue": ("completed", "complete", "resolved", "closed", "sev3", "redeemed"),
}
_TONE_OF = {state: tone for tone, states in TONES.items() for state in states}


@register.filter
def tone(value) -> str:
    """green/amber/red/blue/grey for a state word (unknown words are grey)."""
    return _TONE_OF.get(str(value).lower(), "grey")
