"""Campaign writes: control (start/stop/replay/pause), rescheduling, test sends, the watchdog.

Every control action (start, stop, replay, pause all, reschedule) refuses a caller without
`campaigns.control_campaign` itself (`campaign_control_check`: the API, the admin and
the runbook actions all come through here), writes its audit entry in its own
transaction, and enqueues dispatcher work only after commit.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import audit
from campaigns import leases
from campaigns.controls import CONTROL_PERMISSION, control_applies
from campaigns.errors import (
    CampaignError,
    CampaignNotFound,
    IntegrationUnhealthy,
    InvalidState,
    SendFailed,
)
from campaigns.health import whatsapp_is_red
from campaigns.models import Campaign, DispatchLease, WorkerHeartbeat
from campaigns.phones import phone_normalise
from campaigns.test_send import send_recorded

KICK_AHEAD_SECONDS = 30  # the watchdog runs every minute: wake campaigns a little early
HEARTBEAT_RETENTION = dt.timedelta(days=1)


def campaign_enqueue_slice(*, campaign_id: int, hops: int = 0) -> None:
    """Queue one dispatcher slice once the current transaction (if any) commits.
    `hops`: how often a would-be standby already moved looking for another node."""
    from django_q.tasks import async_task

    args = (campaign_id, hops) if hops else (campaign_id,)
    transaction.on_commit(
        lambda: async_task("campaigns.tasks.dispatch_slice", *args, group=f"campaign-{campaign_id}")
    )


def campaign_control_allowed(*, actor) -> bool:
    """Who may start, stop or replay campaigns (ops and admin); actor None = the system."""
    return actor is None or actor.has_perm(CONTROL_PERMISSION)


def campaign_control_check(*, actor) -> None:
    if not campaign_control_allowed(actor=actor):
        # No message: the API's 403 body is exactly {"error": "forbidden"} (contracts.md).
        raise PermissionDenied


def _locked(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    return campaign


def campaign_start(*, campaign_id: int, actor) -> Campaign:
    """draft/paused → running. Refused while the WhatsApp EF probe is red or when completed."""
    campaign_control_check(actor=actor)
    state = Campaign.objects.filter(pk=campaign_id).values_list("state", flat=True).first()
    if state is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    # Starting a running campaign is a no-op (contracts.md); the rest follow campaigns.controls.
    if state != Campaign.State.RUNNING and not control_applies(key="start", state=state):
        raise InvalidState(f"a {state} campaign cannot be started")
    if state != Campaign.State.RUNNING and whatsapp_is_red():  # may probe: outside the lock
        raise IntegrationUnhealthy("the WhatsApp Edge Function probe is red")
    return _start_locked(campaign_id=campaign_id, actor=actor)


@transaction.atomic
def _start_locked(*, campaign_id: int, actor) -> Campaign:
    campaign = _locked(campaign_id)
    if campaign.state == Campaign.State.RUNNING:
        return campaign
    if not control_applies(key="start", state=campaign.state):
        raise InvalidState(f"a {campaign.state} campaign cannot be started")
    now = timezone.now()
    previous = campaign.state
    campaign.state = Campaign.State.RUNNING
    campaign.started_at = campaign.started_at or now
    # The stall clock restarts at a (re)start. A backoff still running (the provider's
    # Retry-After, or one set by hand before the pause: runbook 3.1) survives the resume;
    # one already over does not carry over.
    campaign.last_progress_at = now
    if not (campaign.backoff_until and campaign.backoff_until > now):
        campaign.backoff_until = None
        campaign.backoff_level = 0
        campaign.backoff_retry_after = None
    campaign.next_send_at = campaign.backoff_until
    campaign.save(
        update_fields=[
            "state",
            "started_at",
            "last_progress_at",
            "backoff_until",
            "backoff_level",
            "backoff_retry_after",
            "next_send_at",
            "updated_at",
        ]
    )
    audit.record(action="campaign.start", actor=actor, target=campaign, data={"from": previous})
    campaign_enqueue_slice(campaign_id=campaign.pk)
    return campaign


def campaign_complete(*, campaign_id: int, now: dt.datetime) -> bool:
    """Running → completed once nothing is pending (the dispatcher's call); audited once."""
    with transaction.atomic():
        done = Campaign.objects.filter(pk=campaign_id, state=Campaign.State.RUNNING).update(
            state=Campaign.State.COMPLETED, completed_at=now, next_send_at=None
        )
        if done:
            audit.record(
                action="campaign.completed",
                target_type="campaigns.campaign",
                target_id=campaign_id,
                target_repr=f"campaign {campaign_id}",
            )
    return bool(done)


@transaction.atomic
def campaign_stop(*, campaign_id: int, actor) -> Campaign:
    """running → paused (the runbook's "Pause"). A no-op unless running.

    The dispatcher sees it within one coordinator tick (0.2 s) and sends nothing more
    than the sends already in flight.
    """
    campaign_control_check(actor=actor)
    campaign = _locked(campaign_id)
    if campaign.state != Campaign.State.RUNNING:
        return campaign
    campaign.state = Campaign.State.PAUSED
    campaign.next_send_at = None
    campaign.save(update_fields=["state", "next_send_at", "updated_at"])
    audit.record(action="campaign.stop", actor=actor, target=campaign, data={})
    return campaign


def campaign_replay(*, campaign_id: int, actor) -> Campaign:
    """The stall runbook's "replay dispatcher": stop then start, only when the EF is healthy.

    It also frees the lease row, so a stuck holder notices at its next check (≤ 1 s), stops
    and lets the fresh slice (waiting as the standby) take over.
    """
    campaign_control_check(actor=actor)
    state = Campaign.objects.filter(pk=campaign_id).values_list("state", flat=True).first()
    if state is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    if not control_applies(key="replay", state=state):
        raise InvalidState(f"a {state} campaign has no dispatcher to replay")
    if whatsapp_is_red():
        raise IntegrationUnhealthy("the WhatsApp Edge Function probe is red")
    with transaction.atomic():
        campaign = campaign_stop(campaign_id=campaign_id, actor=actor)
        DispatchLease.objects.filter(campaign_id=campaign_id).update(
            holder="", expires_at=timezone.now()
        )
        audit.record(action="campaign.replay", actor=actor, target=campaign, data={})
        return _start_locked(campaign_id=campaign_id, actor=actor)


def campaigns_pause_running(*, actor) -> list[int]:
    """Stop every running campaign (WhatsApp failures runbook); returns their ids."""
    campaign_control_check(actor=actor)
    ids = list(Campaign.objects.filter(state=Campaign.State.RUNNING).values_list("pk", flat=True))
    paused = []
    for campaign_id in ids:
        if campaign_stop(campaign_id=campaign_id, actor=actor).state == Campaign.State.PAUSED:
            paused.append(campaign_id)
    return paused


@transaction.atomic
def campaign_reschedule_after(*, campaign_id: int, seconds: float, actor) -> Campaign:
    """Honour a Retry-After by hand: no sends of this campaign for `seconds`."""
    campaign_control_check(actor=actor)
    if not 0 < float(seconds) <= 7 * 24 * 3600:
        raise CampaignError("seconds must be between 0 and one week")
    campaign = _locked(campaign_id)
    until = timezone.now() + dt.timedelta(seconds=float(seconds))
    campaign.backoff_until = until
    campaign.backoff_retry_after = float(seconds)  # the Retry-After honoured by hand
    campaign.next_send_at = until
    campaign.save(
        update_fields=["backoff_until", "backoff_retry_after", "next_send_at", "updated_at"]
    )
    audit.record(
        action="campaign.reschedule",
        actor=actor,
        target=campaign,
        data={"seconds": float(seconds), "until": until.isoformat()},
    )
    return campaign


PACE_FIELDS = ("throttle_per_minute", "quiet_hours_start", "quiet_hours_end", "time_zone")


def campaign_pace_changed(*, campaign_id: int) -> None:
    """Quiet hours or throttle changed (the admin's form; its own audit entry records the
    change): a running campaign takes them at its next slice, queued now. A slice reads the
    throttle once at its start and the quiet hours each round; a wait planned under the old
    settings (`next_send_at`) is dropped so the watchdog does not sit on it either."""
    with transaction.atomic():
        running = Campaign.objects.filter(pk=campaign_id, state=Campaign.State.RUNNING)
        if running.update(next_send_at=None):
            campaign_enqueue_slice(campaign_id=campaign_id)


def campaign_send_test(*, campaign_id: int, phone: str, actor, region: str = "") -> str:
    """Send the campaign's template to one number now; the message id, or SendFailed(code)."""
    from django.conf import settings

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    if not control_applies(key="send_test", state=campaign.state):
        raise InvalidState(f"a {campaign.state} campaign sends no test messages")
    try:
        to = phone_normalise(phone, region=region or settings.CAMPAIGN_DEFAULT_REGION)
    except ValueError as exc:
        raise CampaignError(f"phone: {exc}") from None
    result = send_recorded(
        to=to,
        template=campaign.template,
        variables=campaign.template_variables,
        language=campaign.template_language,
        campaign=campaign,
        actor=actor,
    )
    if result.error_code:
        raise SendFailed(result.error_code)
    return result.message_id


def campaigns_dispatch_watchdog() -> list[int]:
    """Heartbeat, then enqueue a slice for running campaigns nobody holds whose wait is over.

    Covers a worker killed mid-slice with no standby waiting (its lease is gone with its
    session on PostgreSQL, expired on SQLite), a broker that loses tasks (Redis), and long waits (quiet hours, long backoff) that end without a slice queued.
    """
    now = timezone.now()
    leases.heartbeat_write(now=now)
    WorkerHeartbeat.objects.filter(seen_at__lt=now - HEARTBEAT_RETENTION).delete()
    held = leases.campaigns_held(now=now)
    due = (
        Campaign.objects.filter(state=Campaign.State.RUNNING)
        .exclude(pk__in=held)
        .filter(
            Q(next_send_at__isnull=True)
            | Q(next_send_at__lte=now + dt.timedelta(seconds=KICK_AHEAD_SECONDS))
        )
        .values_list("pk", flat=True)
    )
    kicked = list(due)
    for campaign_id in kicked:
        campaign_enqueue_slice(campaign_id=campaign_id)
    return kicked
