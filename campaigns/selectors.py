"""Campaign reads: the status contract body, sanity reports, failure rates, exports."""

import csv
import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Q
from django.utils import timezone

from audit.verify_export import csv_escape
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign, SendResult, Target
from campaigns.progress import campaigns_progress

# WhatsApp's default throughput per number (external-apis.md): above it the provider throttles.
PROVIDER_DEFAULT_PER_MINUTE = 80 * 60
FAILURE_OUTCOMES = (
    SendResult.Outcome.RETRY,
    SendResult.Outcome.FAILED,
    SendResult.Outcome.INVALID,
    SendResult.Outcome.RESCHEDULED,
)
EXPORT_CHUNK = 2000


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _hhmm(value: dt.time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def campaign_status(*, campaign_id: int) -> dict:
    """The body of GET /api/campaigns/{id}/status (contracts.md)."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    # One grouped count over the (campaign, status, …) index; bounded by this campaign's size.
    counts = {s: 0 for s in Target.Status.values}
    for row in (
        Target.objects.filter(campaign_id=campaign_id)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["status"]] = row["n"]
    quiet = None
    if campaign.quiet_hours_start and campaign.quiet_hours_end:
        quiet = {
            "start": _hhmm(campaign.quiet_hours_start),
            "end": _hhmm(campaign.quiet_hours_end),
            "tz": campaign.time_zone,
        }
    next_send_at = campaign.next_send_at
    if campaign.state != Campaign.State.RUNNING:
        next_send_at = None
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "state": campaign.state,
        "queue_length": counts[Target.Status.PENDING],
        "counts": counts,
        "last_progress_at": _iso(campaign.last_progress_at),
        "throttle_per_minute": campaign.throttle_per_minute,
        "quiet_hours": quiet,
        "next_send_at": _iso(next_send_at),
    }


def campaigns_misconfigured() -> list[dict]:
    """Quiet-hours and throttle sanity report (the failures runbook's "check quiet hours and
    throttle settings"): one row per problem, over campaigns not yet completed."""
    problems = []
    for c in Campaign.objects.exclude(state=Campaign.State.COMPLETED).order_by("pk"):

        def add(field: str, problem: str, c=c) -> None:
            problems.append(
                {
                    "campaign_id": c.pk,
                    "name": c.name,
                    "state": c.state,
                    "field": field,
                    "problem": problem,
                }
            )

        if c.throttle_per_minute > PROVIDER_DEFAULT_PER_MINUTE:
            add(
                "throttle_per_minute",
                f"{c.throttle_per_minute}/min is above WhatsApp's default "
                f"{PROVIDER_DEFAULT_PER_MINUTE}/min per number: expect 130429 throttling",
            )
        if c.quiet_hours_start and c.quiet_hours_end:
            start = c.quiet_hours_start.hour * 60 + c.quiet_hours_start.minute
            end = c.quiet_hours_end.hour * 60 + c.quiet_hours_end.minute
            if start == end:
                add("quiet_hours", "start equals end: no quiet window is applied")
            else:
                quiet_minutes = (end - start) % (24 * 60)
                if quiet_minutes >= 20 * 60:
                    add(
                        "quiet_hours",
                        f"quiet for {quiet_minutes // 60} h a day: the campaign "
                        "can only send a few hours (start and end swapped?)",
                    )
        if (
            c.state == Campaign.State.RUNNING
            and c.backoff_until
            and c.backoff_until > (timezone.now() + dt.timedelta(hours=1))
        ):
            add("backoff_until", f"backing off until {_iso(c.backoff_until)}")
    return problems


def send_failure_rate(*, minutes: int) -> float:
    """Share of send attempts in the last `minutes` that did not send (0.0 when none)."""
    since = timezone.now() - dt.timedelta(minutes=minutes)
    totals = SendResult.objects.filter(at__gte=since).aggregate(
        total=Count("id"), failed=Count("id", filter=Q(outcome__in=FAILURE_OUTCOMES))
    )
    return totals["failed"] / totals["total"] if totals["total"] else 0.0


def send_results_recent(
    *,
    campaign_id: int | None = None,
    outcome: str = "",
    error_code: str = "",
    before_id: int | None = None,
    limit: int = 100,
) -> list[SendResult]:
    """Newest first, keyset-paginated by id (no COUNT over a table that grows without bound)."""
    qs = SendResult.objects.select_related("campaign").order_by("-id")
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if error_code:
        qs = qs.filter(error_code=error_code)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return list(qs[:limit])


class _Echo:
    def write(self, value: str) -> str:
        return value


def targets_export_csv(*, campaign_id: int) -> Iterator[str]:
    """Failed and invalid targets as CSV lines, read in keyset chunks: constant memory.
    Text cells a spreadsheet would run as a formula (=, +, -, @, tab, CR) get a leading
    quote, by the one function every CSV of the portal uses (E.164 phones included:
    `'+250…`; the targets upload reads that quote back off)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(
        ["phone", "status", "attempts", "last_error_code", "updated_at", "variables"]
    )
    last_id = 0
    while True:
        chunk = list(
            Target.objects.filter(
                campaign_id=campaign_id,
                id__gt=last_id,
                status__in=[Target.Status.FAILED, Target.Status.INVALID],
            )
            .order_by("id")
            .values_list(
                "id", "phone", "status", "attempts", "last_error_code", "updated_at", "variables"
            )[:EXPORT_CHUNK]
        )
        if not chunk:
            return
        for _pk, phone, status, attempts, code, updated_at, variables in chunk:
            yield writer.writerow(
                [
                    csv_escape(phone),
                    status,
                    attempts,
                    csv_escape(code),
                    _iso(updated_at),
                    csv_escape(_json(variables)),
                ]
            )
        last_id = chunk[-1][0]


def _json(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def campaigns_active_progress(*, limit: int = 8) -> dict:
    """Running and paused campaigns for the front page with their progress: two queries (the
    campaigns, one grouped count of their targets over the (campaign, status) index)."""
    campaigns = list(
        Campaign.objects.filter(state__in=[Campaign.State.RUNNING, Campaign.State.PAUSED]).order_by(
            "state", "-id"
        )[: limit + 1]
    )
    more, campaigns = len(campaigns) > limit, campaigns[:limit]
    return {"rows": campaigns_progress(campaigns), "more": more}


def campaign_provider_retry_after(*, campaign_id) -> tuple[float, dt.datetime] | None:
    """The Retry-After (seconds) the WhatsApp function last returned for this campaign, and
    when; None when it never asked for one."""
    try:
        campaign_id = int(campaign_id)
    except (TypeError, ValueError):
        return None
    row = (
        Campaign.objects.filter(pk=campaign_id, provider_retry_after__isnull=False)
        .values_list("provider_retry_after", "provider_retry_after_at")
        .first()
    )
    return (row[0], row[1]) if row else None
