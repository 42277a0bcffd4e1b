"""One bounded slice of a running campaign's dispatch (called by `campaigns.tasks`).

Shape: take the campaign's lease → rounds of sending until the slice's time is up,
the campaign stops, must wait (quiet hours, backoff, retries not yet due) or is done.
Sending uses a few *lanes*: threads with their own database connection, each
claiming a small batch with `FOR UPDATE SKIP LOCKED` and keeping it locked until
the batch's results are written. A worker killed mid-batch loses only its open
transactions, so those targets are simply pending again; their `idempotency_key`
(stable per target) makes the Edge Function answer a retry without sending twice.
A shared `Pacer` spaces send starts to the throttle; the coordinator (this thread)
renews the lease, watches for stop, persists backoff and progress.
"""

import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from campaigns import leases
from campaigns.models import Campaign, Target
from campaigns.next_send import campaign_next_send_at
from campaigns.outcomes import Outcome, outcome_for_error, outcome_for_success, outcomes_write
from campaigns.pacing import Pacer
from campaigns.quiet import quiet_next_start
from campaigns.services import campaign_complete
from integrations.clients.edge_functions import SendWhatsAppClient
from integrations.clients.keepalive import KeepAliveWhatsAppSender
from integrations.errors import IntegrationError

logger = logging.getLogger("campaigns.dispatcher")

TICK_SECONDS = 0.2
# SQLite (the embedded `make run` default) has no row locks: its write transaction
# (BEGIN IMMEDIATE) already serialises the lanes.
LOCK_CLAUSE = {"postgresql": "FOR UPDATE SKIP LOCKED"}
SLACK_SECONDS = 0.1


def idempotency_key(*, campaign_id: int, target_id: int) -> str:
    return f"campaign-{campaign_id}-target-{target_id}"


@dataclass
class SliceResult:
    reason: str  # lease_busy | not_running | completed | waiting | slice_end | lease_lost
    sent: int = 0
    attempted: int = 0
    wake_at: dt.datetime | None = None

    @property
    def continue_now(self) -> bool:
        """Whether the caller should enqueue the next slice right away."""
        return self.reason == "slice_end"


@dataclass
class _Shared:
    """What lanes tell the coordinator (under `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    progressed: int = 0
    sent: int = 0
    attempted: int = 0
    success_after_backoff: bool = False


class SliceRunner:
    def __init__(
        self,
        campaign_id: int,
        *,
        clock: Callable[[], dt.datetime] = timezone.now,
        slice_seconds: float | None = None,
        holder: str | None = None,
    ):
        self.campaign_id = campaign_id
        self.clock = clock
        self.slice_seconds = slice_seconds or settings.CAMPAIGN_SLICE_SECONDS
        self.holder = holder or leases.new_holder()
        self.ttl = settings.CAMPAIGN_LEASE_SECONDS
        self.cancel = threading.Event()
        self.shared = _Shared()
        self.pacer: Pacer | None = None
        self.client = SendWhatsAppClient()

    # --- time ------------------------------------------------------------------------

    def _mono_at(self, when: dt.datetime) -> float:
        return time.monotonic() + (when - self.clock()).total_seconds()

    def _wall_at(self, mono: float) -> dt.datetime:
        return self.clock() + dt.timedelta(seconds=mono - time.monotonic())

    # --- the slice -------------------------------------------------------------------

    def run(self) -> SliceResult:
        now = self.clock()
        leases.heartbeat_write(now=now)
        if not leases.lease_acquire(
            campaign_id=self.campaign_id, holder=self.holder, now=now, ttl=self.ttl
        ):
            return SliceResult("lease_busy")
        try:
            result = self._rounds()
        finally:
            leases.lease_release(campaign_id=self.campaign_id, holder=self.holder, now=self.clock())
        result.sent, result.attempted = self.shared.sent, self.shared.attempted
        return result

    def _rounds(self) -> SliceResult:
        slice_end = time.monotonic() + self.slice_seconds
        campaign = Campaign.objects.filter(pk=self.campaign_id).first()
        if campaign is None or campaign.state != Campaign.State.RUNNING:
            return SliceResult("not_running")
        # 100 ms of slack (at least one interval): a lane woken late on a busy host still
        # uses its slot, so jitter costs no throughput; the long-run rate stays exact and a
        # minute never holds more than the throttle + 100 ms worth + 1.
        interval = 60.0 / campaign.throttle_per_minute
        pacer = Pacer(per_minute=campaign.throttle_per_minute, slack=max(interval, SLACK_SECONDS))
        self.pacer = pacer
        self._last_renew = time.monotonic()
        while True:
            campaign.refresh_from_db()
            if campaign.state != Campaign.State.RUNNING:
                return SliceResult("not_running")
            now = self.clock()
            wake = campaign_next_send_at(campaign, now)
            if wake is None:
                if not Target.objects.filter(
                    campaign_id=self.campaign_id, status=Target.Status.PENDING
                ).exists():
                    campaign_complete(campaign_id=self.campaign_id, now=now)
                    return SliceResult("completed")
            if wake is not None and wake > now:
                Campaign.objects.filter(pk=self.campaign_id).update(next_send_at=wake)
                inline = min(settings.CAMPAIGN_INLINE_WAIT_SECONDS, slice_end - time.monotonic())
                if (wake - now).total_seconds() > inline:
                    return SliceResult("waiting", wake_at=wake)
                if not self._sleep_until(self._mono_at(wake)):
                    return SliceResult(self._stop_reason())
                continue
            # Send until the slice ends or the next quiet window begins.
            quiet_start = quiet_next_start(
                now=now,
                start=campaign.quiet_hours_start,
                end=campaign.quiet_hours_end,
                tz=campaign.time_zone,
            )
            deadline = (
                slice_end if quiet_start is None else min(slice_end, self._mono_at(quiet_start))
            )
            if campaign.backoff_until and campaign.backoff_until > now:
                pacer.pause_until(self._mono_at(campaign.backoff_until))
            Campaign.objects.filter(pk=self.campaign_id).update(next_send_at=None)
            attempted_before = self.shared.attempted
            self._send_round(campaign, pacer, deadline)
            if self.shared.attempted == attempted_before and not self._sleep_until(
                time.monotonic() + TICK_SECONDS
            ):
                return SliceResult(self._stop_reason())  # rows due but held by another worker
            if self.cancel.is_set():
                return SliceResult(self._stop_reason())
            if time.monotonic() >= slice_end - TICK_SECONDS:
                return SliceResult("slice_end")

    def _stop_reason(self) -> str:
        return "lease_lost" if getattr(self, "_lease_lost", False) else "not_running"

    def _sleep_until(self, mono_deadline: float) -> bool:
        """Wait, still renewing the lease and watching for stop; False when told to stop."""
        while time.monotonic() < mono_deadline:
            if not self._tick():
                return False
            time.sleep(min(TICK_SECONDS, max(0.0, mono_deadline - time.monotonic())))
        return True

    def _tick(self) -> bool:
        """Coordinator duties; False (and lanes cancelled) once we must stop sending."""
        row = (
            Campaign.objects.filter(pk=self.campaign_id)
            .values_list("state", "backoff_until")
            .first()
        )
        if row is None or row[0] != Campaign.State.RUNNING:
            self.cancel.set()
            return False
        backoff_until = row[1]
        if backoff_until is not None and self.pacer is not None:
            # A backoff set elsewhere (another lane's 429 is already in the pacer; this is
            # e.g. campaign_reschedule_after from a runbook) holds our lanes too.
            remaining = (backoff_until - self.clock()).total_seconds()
            if remaining > 0:
                self.pacer.pause_until(time.monotonic() + remaining)
        if time.monotonic() - self._last_renew > self.ttl / 6:
            now = self.clock()
            if not leases.lease_renew(
                campaign_id=self.campaign_id, holder=self.holder, now=now, ttl=self.ttl
            ):
                self._lease_lost = True
                self.cancel.set()
                return False
            leases.heartbeat_write(now=now)
            self._last_renew = time.monotonic()
        return True

    # --- sending ---------------------------------------------------------------------

    def _send_round(self, campaign: Campaign, pacer: Pacer, deadline: float) -> None:
        per_second = campaign.throttle_per_minute / 60.0
        # Enough lanes to keep the throttle busy at ~250 ms per send, few for slow campaigns.
        lanes = max(1, min(settings.CAMPAIGN_MAX_LANES, math.ceil(per_second * 0.25) + 1))
        if connection.vendor == "sqlite":
            lanes = 1  # one writer at a time there anyway
        batch = max(1, min(50, math.ceil(per_second * 1.5 / lanes)))
        threads = [
            threading.Thread(
                target=self._lane,
                args=(campaign, pacer, deadline, batch),
                daemon=True,
                name=f"campaign-{campaign.pk}-lane-{i}",
            )
            for i in range(lanes)
        ]
        for t in threads:
            t.start()
        last_progress = 0
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(TICK_SECONDS / len(threads))
            self._tick()
            last_progress = self._persist_progress(pacer, last_progress)
        self._persist_progress(pacer, last_progress)

    def _persist_progress(self, pacer: Pacer, last_progress: int) -> int:
        shared = self.shared
        with shared.lock:
            progressed = shared.progressed
            reset_backoff = shared.success_after_backoff
            shared.success_after_backoff = False
        fields = {}
        if progressed != last_progress:
            fields["last_progress_at"] = self.clock()
        if reset_backoff:
            fields["backoff_level"] = 0
        if fields:
            Campaign.objects.filter(pk=self.campaign_id).update(**fields)
        return progressed

    def _lane(self, campaign: Campaign, pacer: Pacer, deadline: float, batch: int) -> None:
        try:
            sender = KeepAliveWhatsAppSender(self.client)
        except IntegrationError:
            sender = self.client  # not configured: each send raises it, the campaign backs off
        try:
            while not self.cancel.is_set() and time.monotonic() < deadline:
                if not self._lane_batch(campaign, pacer, deadline, batch, sender):
                    return
        except Exception:
            logger.exception("campaign %s: lane failed", campaign.pk)
            self.cancel.set()
        finally:
            if sender is not self.client:
                sender.close()
            connection.close()

    def _lane_batch(
        self, campaign: Campaign, pacer: Pacer, deadline: float, batch: int, sender
    ) -> bool:
        """Claim, send, write one batch in one transaction; False when nothing is due."""
        close_old_connections()
        with transaction.atomic():
            now = self.clock()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    SELECT id, phone, variables, attempts FROM {Target._meta.db_table}
                     WHERE campaign_id = %s AND status = %s
                       AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
                     LIMIT %s {LOCK_CLAUSE.get(connection.vendor, "")}
                    """,
                    [campaign.pk, Target.Status.PENDING, now, batch],
                )
                rows = cursor.fetchall()
            if not rows:
                return False
            outcomes: list[Outcome] = []
            for target_id, phone, variables, attempts in rows:
                if not pacer.acquire(deadline=deadline, cancelled=self.cancel):
                    break
                outcomes.append(
                    self._send_one(campaign, pacer, sender, target_id, phone, variables, attempts)
                )
            outcomes_write(campaign_id=campaign.pk, outcomes=outcomes, now=self.clock())
        return True

    def _send_one(self, campaign, pacer, sender, target_id, phone, variables, attempts) -> Outcome:
        if isinstance(variables, str):  # SQLite's raw cursor returns JSON as text
            variables = json.loads(variables)
        try:
            message_id = sender.send(
                to=phone,
                template=campaign.template,
                variables={**campaign.template_variables, **(variables or {})},
                idempotency_key=idempotency_key(campaign_id=campaign.pk, target_id=target_id),
                language=campaign.template_language,
            )
            outcome = outcome_for_success(
                target_id=target_id, phone=phone, attempts=attempts, message_id=message_id
            )
        except IntegrationError as exc:
            outcome = outcome_for_error(
                target_id=target_id, phone=phone, attempts=attempts, exc=exc, now=self.clock()
            )
            if outcome.campaign_backoff is not None:
                self._campaign_backoff(campaign, pacer, outcome)
        shared = self.shared
        with shared.lock:
            shared.attempted += 1
            if outcome.status != Target.Status.PENDING:
                shared.progressed += 1
            if outcome.status == Target.Status.SENT:
                shared.sent += 1
                shared.success_after_backoff = True
        return outcome

    def _campaign_backoff(self, campaign: Campaign, pacer: Pacer, outcome: Outcome) -> None:
        """Everyone waits: Retry-After when given, else 2^level × base (capped)."""
        if outcome.retry_after_known:
            wait = outcome.campaign_backoff
            level = None
        else:
            level = (
                Campaign.objects.filter(pk=campaign.pk)
                .values_list("backoff_level", flat=True)
                .first()
                or 0
            )
            wait = min(
                settings.CAMPAIGN_BACKOFF_MAX_SECONDS,
                settings.CAMPAIGN_BACKOFF_BASE_SECONDS * (2**level),
            )
        until_mono = time.monotonic() + wait
        pacer.pause_until(until_mono)
        until = self.clock() + dt.timedelta(seconds=wait)
        outcome.next_attempt_at = until
        self._backoff_persist(until, level)

    def _backoff_persist(self, until: dt.datetime, level: int | None) -> None:
        # A separate connection: the lane's own transaction holds target locks until its
        # batch is written, and the backoff must be visible to every worker now.
        def write():
            try:
                fields = {"backoff_until": until, "next_send_at": until}
                if level is not None:
                    fields["backoff_level"] = min(level + 1, 16)
                Campaign.objects.filter(pk=self.campaign_id).update(**fields)
            finally:
                connection.close()

        t = threading.Thread(target=write, daemon=True)
        t.start()
        t.join()
