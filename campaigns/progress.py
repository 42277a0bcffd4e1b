"""Campaign progress for pages: target counts for many campaigns in one grouped query, and
one row per campaign (counts, done/total, percent, the state in words).

Used by the campaign list (one query for the whole page, never a COUNT per row), the
campaign page's progress panel and the front page.
"""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from campaigns.models import Campaign, Target
from campaigns.wording import campaign_next_send_words, campaign_state_words


def targets_counts(campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{campaign id: {status: n}} in one grouped query over the (campaign, status, …) index."""
    counts = {pk: {s: 0 for s in Target.Status.values} for pk in campaign_ids}
    if not counts:
        return counts
    for row in (
        Target.objects.filter(campaign_id__in=list(counts))
        .values("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["campaign_id"]][row["status"]] = row["n"]
    return counts


def progress_row(campaign: Campaign, counts: dict[str, int], *, now: dt.datetime) -> dict:
    total = sum(counts.values())
    done = total - counts[Target.Status.PENDING]
    return {
        "campaign": campaign,
        "counts": counts,
        "total": total,
        "done": done,
        "sent": counts[Target.Status.SENT],
        "percent": round(100 * done / total) if total else 0,  # done: sent, failed or invalid
        "sent_percent": round(100 * counts[Target.Status.SENT] / total) if total else 0,
        "words": campaign_state_words(campaign, counts, now=now),
        "next_send": campaign_next_send_words(campaign, now=now),
    }


def campaigns_progress(campaigns: list[Campaign], *, now: dt.datetime | None = None) -> list[dict]:
    """A progress row for each campaign, in order: one query whatever their number."""
    now = now or timezone.now()
    counts = targets_counts(c.pk for c in campaigns)
    return [progress_row(c, counts[c.pk], now=now) for c in campaigns]
